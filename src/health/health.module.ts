import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DeliveryModule } from '../delivery/delivery.module';
import { HealthController } from './health.controller';
import { SmtpProbe } from './smtp.probe';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), DeliveryModule],
  controllers: [HealthController],
  providers: [SmtpProbe],
})
export class HealthModule {}
