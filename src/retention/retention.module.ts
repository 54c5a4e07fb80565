import { Module } from '@nestjs/common';
import { CategoryRetentionController } from './category-retention.controller';
import { CategoryRetentionMapper } from './category-retention.mapper';
import { CategoryRetentionRepository } from './category-retention.repository';
import { CategoryRetentionService } from './category-retention.service';

/** Retention per mail category (contract A5); the purge runs in the maintenance job (src/queue/). */
@Module({
  controllers: [CategoryRetentionController],
  providers: [CategoryRetentionService, CategoryRetentionRepository, CategoryRetentionMapper],
})
export class RetentionModule {}
