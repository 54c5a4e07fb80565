import { IsIn, IsOptional } from 'class-validator';
import { LOCALES } from '../../catalog/mail-category';

export class PreviewQueryDto {
  /** Language of the preview. */
  @IsOptional()
  @IsIn(LOCALES)
  locale: 'fr' | 'en' = 'fr';

  /** `html` (the default) or `text`: the plain-text part of the same mail. */
  @IsOptional()
  @IsIn(['html', 'text'])
  format: 'html' | 'text' = 'html';
}
