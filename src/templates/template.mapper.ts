import { Injectable } from '@nestjs/common';
import { LinksBuilder } from '../common/links/links.builder';
import { MAIL_CATALOG } from '../catalog/mail-catalog';
import { LOCALES, MailCategory } from '../catalog/mail-category';
import { TemplateDto, TemplateListDto } from './dto/template.dto';

@Injectable()
export class TemplateMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(category: MailCategory, subjects: Record<string, string>): TemplateDto {
    const rule = MAIL_CATALOG[category];
    return {
      category,
      requires: rule.requiredIds,
      buttonPath: rule.buttonPath,
      locales: [...LOCALES],
      subjects,
      links: LOCALES.map((locale) =>
        this.links.link(`preview-${locale}`, 'GET', `/v1/templates/${category}/preview?locale=${locale}`, `Preview in ${locale}`, 'text/html'),
      ),
    };
  }

  toList(templates: TemplateDto[]): TemplateListDto {
    return { content: templates, links: [this.links.link('self', 'GET', '/v1/templates', 'List the mail templates')] };
  }
}
