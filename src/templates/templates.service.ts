import { Injectable } from '@nestjs/common';
import { TemplateRenderer } from '../delivery/template.renderer';
import { Locale, LOCALES, MAIL_CATEGORIES, MailCategory } from '../catalog/mail-category';
import { TemplateListDto } from './dto/template.dto';
import { TemplateMapper } from './template.mapper';

@Injectable()
export class TemplatesService {
  constructor(
    private readonly renderer: TemplateRenderer,
    private readonly mapper: TemplateMapper,
  ) {}

  list(): TemplateListDto {
    return this.mapper.toList(
      MAIL_CATEGORIES.map((category) =>
        this.mapper.toDto(category, Object.fromEntries(LOCALES.map((locale) => [locale, this.renderer.preview(category, locale).subject]))),
      ),
    );
  }

  previewHtml(category: MailCategory, locale: Locale): string {
    return this.renderer.preview(category, locale).html;
  }
}
