import { Injectable } from '@nestjs/common';
import { LinksBuilder } from '../common/links/links.builder';
import { ListSuppressionsQueryDto, SuppressionDto, SuppressionPageDto } from './dto/suppression.dto';
import { Suppression } from './suppression.repository';

@Injectable()
export class SuppressionMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(suppression: Suppression): SuppressionDto {
    const path = `/v1/suppressions/${encodeURIComponent(suppression.email)}`;
    return {
      email: suppression.email,
      reason: suppression.reason,
      note: suppression.note,
      createdAt: suppression.createdAt.toISOString(),
      lastBounce: suppression.lastBounce,
      links: [
        this.links.link('self', 'GET', path, 'Get this suppression'),
        this.links.link('delete', 'DELETE', path, 'Let mail flow to this address again'),
      ],
    };
  }

  toPage(rows: Suppression[], total: number, query: ListSuppressionsQueryDto): SuppressionPageDto {
    const { currentPage, sizePage, ...filters } = query;
    return this.links.page(
      '/v1/suppressions',
      rows.map((row) => this.toDto(row)),
      total,
      currentPage,
      sizePage,
      filters,
    );
  }
}
