import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DeliveryModule } from '../delivery/delivery.module';
import { HealthController } from './health.controller';
import { MetricsService } from './metrics.service';
import { SmtpProbe } from './smtp.probe';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), DeliveryModule],
  controllers: [HealthController],
  providers: [MetricsService, SmtpProbe],
  exports: [MetricsService],
})
export class HealthModule {}
