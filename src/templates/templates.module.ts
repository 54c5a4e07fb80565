import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { TemplateMapper } from './template.mapper';
import { TemplatesController } from './templates.controller';
import { TemplatesService } from './templates.service';

@Module({
  imports: [DeliveryModule],
  controllers: [TemplatesController],
  providers: [TemplatesService, TemplateMapper],
})
export class TemplatesModule {}
