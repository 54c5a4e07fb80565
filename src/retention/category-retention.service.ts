import { Injectable } from '@nestjs/common';
import { MailCategory } from '../catalog/mail-category';
import { AppConfig, InjectConfig } from '../config/app.config';
import { CategoryRetentionMapper } from './category-retention.mapper';
import { CategoryRetentionRepository } from './category-retention.repository';
import { CategoryRetentionDto, PutCategoryRetentionDto } from './dto/category-retention.dto';

/**
 * How long each category's mails are kept before the maintenance job purges their personal data
 * (src/queue/sql/purge-expired-mails.ts); MAIL_RETENTION_DAYS for a category never set.
 */
@Injectable()
export class CategoryRetentionService {
  constructor(
    private readonly retentions: CategoryRetentionRepository,
    private readonly mapper: CategoryRetentionMapper,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async get(category: MailCategory): Promise<CategoryRetentionDto> {
    const days = await this.retentions.findDays(category);
    return this.mapper.toDto(category, days ?? this.config.retention.mailDays);
  }

  async put(category: MailCategory, dto: PutCategoryRetentionDto): Promise<CategoryRetentionDto> {
    return this.mapper.toDto(category, await this.retentions.setDays(category, dto.days));
  }
}
