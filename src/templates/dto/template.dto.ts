import { LinkDto } from '../../common/links/link.dto';
import { MailCategory, MailReferenceField } from '../../catalog/mail-category';

export class TemplateDto {
  category: MailCategory;
  /** Ids a mail event of this category must carry. */
  requires: MailReferenceField[];
  /** Path under FRONTEND_BASE_URL that the mail's button opens. */
  buttonPath: string;
  /** @example ["fr", "en"] */
  locales: string[];
  /** The subject in each locale, rendered with sample data. */
  subjects: Record<string, string>;
  links: LinkDto[];
}

export class TemplateListDto {
  content: TemplateDto[];
  links: LinkDto[];
}
