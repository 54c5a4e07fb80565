import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { isPlainEmail } from '../common/validation/plain-email';
import { ListSuppressionsQueryDto, PutSuppressionDto, SuppressionDto, SuppressionPageDto } from './dto/suppression.dto';
import { SuppressionMapper } from './suppression.mapper';
import { SuppressionRepository } from './suppression.repository';

/** Addresses mail is no longer sent to: hard bounces (added by the delivery worker) and manual entries. */
@Injectable()
export class SuppressionsService {
  constructor(
    private readonly suppressions: SuppressionRepository,
    private readonly mapper: SuppressionMapper,
  ) {}

  async list(query: ListSuppressionsQueryDto): Promise<SuppressionPageDto> {
    const { rows, total } = await this.suppressions.findPage(
      { email: query.email, reason: query.reason },
      query.currentPage,
      query.sizePage,
    );
    return this.mapper.toPage(rows, total, query);
  }

  async get(email: string): Promise<SuppressionDto> {
    const found = await this.suppressions.find(email);
    if (!found) throw ApiError.notFound(`Suppression of ${email}`);
    return this.mapper.toDto(found);
  }

  async put(email: string, dto: PutSuppressionDto): Promise<{ suppression: SuppressionDto; created: boolean }> {
    if (!isPlainEmail(email)) {
      throw ApiError.validation([
        {
          field: 'email',
          value: email.slice(0, 50),
          location: 'path',
          issue: 'must be a plain e-mail address (name@domain)',
        },
      ]);
    }
    const { suppression, created } = await this.suppressions.put(email, dto.note ?? null);
    return { suppression: this.mapper.toDto(suppression), created };
  }

  /** Mail flows to the address again. */
  async remove(email: string): Promise<void> {
    if (!(await this.suppressions.delete(email))) throw ApiError.notFound(`Suppression of ${email}`);
  }

  isSuppressed(email: string): Promise<boolean> {
    return this.suppressions.isSuppressed(email);
  }
}
