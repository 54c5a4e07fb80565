import { HttpStatus, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { currentCaller, seesEverything } from '../auth/caller';
import { ApiError, ErrorDetail } from '../common/errors/api-error';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';
import { toErrorResponse } from '../common/errors/error-body.factory';
import { ApiValidationPipe } from '../common/errors/validation.pipe';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { HttpResult } from '../common/http/http-result';
import { LinksBuilder } from '../common/links/links.builder';
import { MetricsService } from '../common/metrics/metrics.service';
import { CreateMailDto } from './dto/create-mail.dto';
import { ListMailsQueryDto } from './dto/list-mails.query.dto';
import { CancelMailsDto, RescheduleMailDto } from './dto/mail-actions.dto';
import {
  BatchItemResultDto,
  BatchResultDto,
  CancellationResultDto,
  DeliveryAttemptDto,
  MailDto,
  MailPageDto,
} from './dto/mail.dto';
import { MailWriteBatcher } from './mail-write.batcher';
import { MAIL_CATALOG } from '../catalog/mail-catalog';
import { variableProblems } from '../catalog/mail-variables';
import { MailFactory } from './mail.factory';
import { MailMapper } from './mail.mapper';
import { MailCommands } from './mail.commands';
import { MailWithDeliveries } from './mail.entity';
import { MailInserter } from './mail.inserter';
import { MailQueries } from './mail.queries';
import { MailWriter } from './mail.writer';
import { MailStatus } from './mail-status';

export const MAX_BATCH_SIZE = 500;

@Injectable()
export class MailsService {
  private readonly validator = new ApiValidationPipe();

  constructor(
    private readonly queries: MailQueries,
    private readonly commands: MailCommands,
    private readonly inserter: MailInserter,
    private readonly mapper: MailMapper,
    private readonly idempotency: IdempotencyService,
    private readonly writer: MailWriter,
    private readonly batcher: MailWriteBatcher,
    private readonly links: LinksBuilder,
    private readonly cls: ClsService,
    private readonly metrics: MetricsService,
    private readonly factory: MailFactory,
  ) {}

  /**
   * Accepts a mail event: the mail and one delivery per receiver (the queue the workers claim from)
   * are committed before the answer (with the Idempotency-Key's answer when one is sent), so an
   * accepted mail is never lost, never half-queued, and never created twice by a retried request.
   */
  async create(dto: CreateMailDto): Promise<MailDto> {
    const row = this.build(dto, new Date());
    const body = this.mapper.toDto(row.mail, row.deliveries);
    await this.store([row], HttpStatus.ACCEPTED, body);
    return body;
  }

  /**
   * Up to 500 events in one request and one transaction (two inserts whatever their number). Each
   * is validated on its own: the valid ones are accepted even when others are refused.
   */
  async createBatch(items: unknown): Promise<BatchResultDto> {
    if (!Array.isArray(items) || items.length < 1 || items.length > MAX_BATCH_SIZE) {
      throw ApiError.validation([
        {
          field: 'body',
          location: 'body',
          value: Array.isArray(items) ? `[array of ${items.length}]` : typeof items,
          issue: `must be an array of 1 to ${MAX_BATCH_SIZE} mail events`,
        },
      ]);
    }
    const now = new Date();
    const rows: MailWithDeliveries[] = [];
    const results: BatchItemResultDto[] = [];
    for (const [index, item] of items.entries()) {
      try {
        const dto = (await this.validator.transform(item, { type: 'body', metatype: CreateMailDto })) as CreateMailDto;
        const row = this.build(dto, now);
        rows.push(row);
        results.push({ index, status: HttpStatus.ACCEPTED, mail: this.mapper.toDto(row.mail, row.deliveries) });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        results.push({
          index,
          status: error.getStatus(),
          error: toErrorResponse(error, this.cls.getId(), this.links.baseUrl()).body,
        });
      }
    }
    const body = { results };
    await this.store(rows, HttpStatus.OK, body);
    return body;
  }

  async findOne(id: string): Promise<MailDto> {
    const found = await this.queries.findWithDeliveries(id);
    if (!found) throw ApiError.notFound(`Mail ${id}`);
    return this.mapper.toDto(found.mail, found.deliveries);
  }

  async list(query: ListMailsQueryDto): Promise<MailPageDto> {
    const { rows, total, last } = await this.queries.findPage(
      query,
      query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    );
    return this.mapper.toPage(
      rows,
      total,
      query,
      last && rows.length === query.sizePage ? encodeCursor(last) : undefined,
    );
  }

  /**
   * Cancels what is still to be sent of a mail: 200 when it took effect at once, 202 when a delivery
   * is in an attempt (it ends CANCELLED unless the relay accepts that copy), 409 when every
   * delivery had already ended.
   */
  async cancel(id: string): Promise<HttpResult<MailDto>> {
    const { cancelled, requested } = await this.commands.cancel({ mailId: id }, this.cls.getId());
    const mail = await this.findOne(id);
    if (requested.length) return new HttpResult(mail, HttpStatus.ACCEPTED);
    if (!cancelled.length)
      throw ApiError.conflict(`Mail ${id} is ${mail.status}: every delivery has ended, nothing is left to cancel.`);
    return new HttpResult(mail, HttpStatus.OK);
  }

  /**
   * Cancels what is still to be sent of every mail of a booking (or publication, organization,
   * establishment, receiver), with the Idempotency-Key's answer in the same transaction. When
   * nothing matches, nothing is written but the answer (count 0) is still stored with the reading
   * that decided it: a retry answers what the first call did, not what it would find later.
   */
  async cancelMany(dto: CancelMailsDto): Promise<CancellationResultDto> {
    const { categories, ...ids } = dto;
    if (!Object.values(ids).some((value) => value !== undefined)) {
      throw ApiError.validation([
        {
          field: 'body',
          location: 'body',
          issue: 'must name at least one of reservationId, publicationId, organizationId, establishmentId, receiverId',
        },
      ]);
    }
    return this.commands.transaction(async (manager) => {
      const { cancelled, requested } = await this.commands.cancel({ ...ids, categories }, this.cls.getId(), manager);
      const answer = { count: cancelled.length, mailIds: cancelled, requestedMailIds: requested };
      await this.idempotency.storeWithin(manager, HttpStatus.OK, answer);
      return answer;
    });
  }

  async reschedule(id: string, dto: RescheduleMailDto): Promise<MailDto> {
    const scheduledAt = futureDate(dto.scheduledAt, 'scheduledAt');
    const moved = await this.commands.reschedule(id, scheduledAt);
    const mail = await this.findOne(id);
    if (!moved) throw ApiError.conflict(`Mail ${id} is ${mail.status}: only a SCHEDULED mail can be rescheduled.`);
    return mail;
  }

  /**
   * Queues the FAILED deliveries of a mail again, with a fresh retry budget; the answer (the mail as
   * the retry left it, read in its transaction) and the Idempotency-Key's answer commit together.
   */
  async retry(id: string): Promise<MailDto> {
    const mail = await this.commands.transaction(async (manager) => {
      const count = await this.commands.retryFailed(id, manager);
      const found = await this.queries.findWithDeliveries(id, manager);
      if (!found) throw ApiError.notFound(`Mail ${id}`);
      const answer = this.mapper.toDto(found.mail, found.deliveries);
      if (count === 0)
        throw ApiError.conflict(`Mail ${id} has no FAILED delivery to retry, was cancelled, or was purged.`);
      await this.idempotency.storeWithin(manager, HttpStatus.ACCEPTED, answer);
      return answer;
    });
    this.writer.nudge();
    return mail;
  }

  async attempts(mailId: string, receiverId: string): Promise<DeliveryAttemptDto[]> {
    const attempts = await this.queries.findAttempts(mailId, receiverId);
    if (!attempts) throw ApiError.notFound(`Delivery of mail ${mailId} to ${receiverId}`);
    return this.mapper.toAttemptDtos(attempts);
  }

  /**
   * Commits the rows before the request is answered. With an Idempotency-Key, in a transaction of
   * its own that stores the key's answer too; without, in the group commit of concurrent requests.
   */
  private async store(rows: MailWithDeliveries[], statusCode: number, body: unknown): Promise<void> {
    if (this.idempotency.active()) {
      await this.commands.transaction(async (manager) => {
        if (rows.length) await this.inserter.insert(rows, manager);
        await this.idempotency.storeWithin(manager, statusCode, body);
      });
    } else if (rows.length) {
      await this.batcher.write(rows);
    }
    for (const { mail } of rows) this.metrics.mailsAccepted.inc({ category: mail.category });
    if (rows.some(({ mail }) => mail.status === MailStatus.PENDING)) this.writer.nudge();
  }

  /** The rows of a valid event: the mail and one delivery per receiver, due now or at its time. */
  private build(dto: CreateMailDto, now: Date): MailWithDeliveries {
    assertCategoryIds(dto);
    const forcedBy = dto.forceSending ? forcingCaller() : null;
    return this.factory.build(
      {
        category: dto.category,
        receivers: dto.receiversId.map((id) => ({ id })),
        ids: dto,
        productType: dto.productType,
        variables: dto.variables,
        locale: dto.locale,
        testMode: dto.testMode,
        forceSending: dto.forceSending,
        forcedBy,
        scheduledAt: dto.scheduledAt === undefined ? null : futureDate(dto.scheduledAt, 'scheduledAt', now),
        correlationId: this.cls.getId(),
      },
      now,
    );
  }
}

/** The ids a category needs to build its mail and its button link (400 when one is missing). */
function assertCategoryIds(dto: CreateMailDto): void {
  const details: ErrorDetail[] = MAIL_CATALOG[dto.category].requiredIds
    .filter((field) => dto[field] === undefined)
    .map((field): ErrorDetail => ({ field, location: 'body', issue: `is required for category ${dto.category}` }));
  // Only the variables the category declares (GET /v1/templates/{category}), each of its type.
  for (const problem of variableProblems(dto.category, dto.variables ?? {}))
    details.push({ ...problem, location: 'body' });
  if (details.length) throw ApiError.validation(details);
}

/**
 * Who forces a mail past its receivers' refusal (contract A3): a service (its API key's name) or an
 * admin (their sub); 403 for anyone else. With AUTH_MODE=off every caller is a service with no name.
 */
function forcingCaller(): string | null {
  const caller = currentCaller();
  if (!seesEverything(caller)) throw ApiError.forbidden('forceSending is for services and admins only.');
  return caller.id;
}

function futureDate(value: string, field: string, now = new Date()): Date {
  const date = new Date(value);
  if (!(date.getTime() > now.getTime()))
    throw ApiError.validation([{ field, location: 'body', value, issue: 'must be a time in the future' }]);
  return date;
}
