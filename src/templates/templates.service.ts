import { Injectable } from '@nestjs/common';
import { TemplateRenderer } from '../delivery/template.renderer';
import { Locale, MAIL_CATEGORIES, MailCategory } from '../catalog/mail-category';
import { TemplateDto, TemplateListDto } from './dto/template.dto';
import { TemplateMapper } from './template.mapper';

@Injectable()
export class TemplatesService {
  constructor(
    private readonly renderer: TemplateRenderer,
    private readonly mapper: TemplateMapper,
  ) {}

  list(): TemplateListDto {
    return this.mapper.toList(MAIL_CATEGORIES.map((category) => this.get(category)));
  }

  get(category: MailCategory): TemplateDto {
    return this.mapper.toDto(category, {
      fr: this.renderer.preview(category, 'fr').subject,
      en: this.renderer.preview(category, 'en').subject,
    });
  }

  preview(category: MailCategory, locale: Locale, format: 'html' | 'text'): string {
    const rendered = this.renderer.preview(category, locale);
    return format === 'text' ? rendered.text : rendered.html;
  }
}
