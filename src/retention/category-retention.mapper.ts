import { Injectable } from '@nestjs/common';
import { MailCategory } from '../catalog/mail-category';
import { LinksBuilder } from '../common/links/links.builder';
import { CategoryRetentionDto } from './dto/category-retention.dto';

/** Turns a category's retention into its response; the only place that adds its links. */
@Injectable()
export class CategoryRetentionMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(category: MailCategory, days: number): CategoryRetentionDto {
    const path = `/v1/categories/${category}/retention`;
    return {
      category,
      days,
      links: [
        this.links.link('self', 'GET', path, "Get this category's retention"),
        this.links.link('update', 'PUT', path, 'Set the days mails of this category are kept'),
        this.links.link('mails', 'GET', `/v1/mails?category=${category}`, 'Mails of this category'),
      ],
    };
  }
}
