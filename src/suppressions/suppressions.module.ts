import { Module } from '@nestjs/common';
import { SuppressionMapper } from './suppression.mapper';
import { SuppressionRepository } from './suppression.repository';
import { SuppressionsController } from './suppressions.controller';
import { SuppressionsService } from './suppressions.service';

@Module({
  controllers: [SuppressionsController],
  providers: [SuppressionsService, SuppressionRepository, SuppressionMapper],
  exports: [SuppressionsService],
})
export class SuppressionsModule {}
