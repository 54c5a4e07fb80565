import { IsIn, IsOptional } from 'class-validator';
import { LOCALES } from '../../catalog/mail-category';

export class PreviewQueryDto {
  /** Language of the preview. */
  @IsOptional()
  @IsIn(LOCALES)
  locale: 'fr' | 'en' = 'fr';
}
