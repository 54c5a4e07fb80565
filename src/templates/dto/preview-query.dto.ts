import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { LOCALES } from '../../catalog/mail-category';

export class PreviewQueryDto {
  /** Language of the preview. */
  @IsOptional()
  @IsIn(LOCALES)
  @ApiPropertyOptional({ enum: LOCALES, default: 'fr' })
  locale: 'fr' | 'en' = 'fr';

  /** `html` (the default) or `text`: the plain-text part of the same mail. */
  @IsOptional()
  @IsIn(['html', 'text'])
  @ApiPropertyOptional({ enum: ['html', 'text'], default: 'html' })
  format: 'html' | 'text' = 'html';
}
