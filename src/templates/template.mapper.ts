import { Injectable } from '@nestjs/common';
import { LinksBuilder } from '../common/links/links.builder';
import { MAIL_CATALOG } from '../catalog/mail-catalog';
import { kindOf, LOCALES, MailCategory } from '../catalog/mail-category';
import { TemplateDto, TemplateListDto, TemplateSubjectDto } from './dto/template.dto';

@Injectable()
export class TemplateMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(category: MailCategory, subject: TemplateSubjectDto): TemplateDto {
    const definition = MAIL_CATALOG[category];
    return {
      category,
      kind: kindOf(category),
      requiredIds: definition.requiredIds,
      variables: definition.variables.map(({ name, type, required, description, example }) => ({
        name,
        type,
        required,
        description,
        example,
      })),
      subject,
      buttonPath: definition.buttonPath,
      links: [
        this.links.link('self', 'GET', `/v1/templates/${category}`, 'Get this template'),
        ...LOCALES.map((locale) =>
          this.links.link(
            `preview-${locale}`,
            'GET',
            `/v1/templates/${category}/preview?locale=${locale}`,
            `Preview in ${locale}`,
            'text/html',
          ),
        ),
      ],
    };
  }

  toList(templates: TemplateDto[]): TemplateListDto {
    return { content: templates, links: [this.links.link('self', 'GET', '/v1/templates', 'List the mail templates')] };
  }
}
