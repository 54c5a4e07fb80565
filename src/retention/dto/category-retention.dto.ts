import { IsInt, Max, Min } from 'class-validator';
import { MailCategory } from '../../catalog/mail-category';
import { LinkDto } from '../../common/links/link.dto';

export class CategoryRetentionDto {
  category: MailCategory;
  /** Days a mail of this category is kept before it is purged; 0: for ever. MAIL_RETENTION_DAYS until set. */
  days: number;
  links: LinkDto[];
}

export class PutCategoryRetentionDto {
  /**
   * Days a mail of this category is kept before its personal data are purged; 0: for ever.
   * @example 90
   */
  @IsInt()
  @Min(0)
  @Max(36500)
  days: number;
}
