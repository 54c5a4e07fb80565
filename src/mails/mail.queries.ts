import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { KeysetCursor } from '../common/pagination/cursor';
import { DeliveryEntity } from './delivery.entity';
import { ListMailsQueryDto } from './dto/list-mails.query.dto';
import { MailEntity, MailWithDeliveries } from './mail.entity';
import { AttemptOutcome, DeliveryErrorCode, MailStatus } from './mail-status';
import { Conditions } from './sql/conditions';

export interface DeliveryAttempt {
  attempt: number;
  startedAt: Date;
  finishedAt: Date | null;
  outcome: AttemptOutcome | null;
  smtpResponse: string | null;
}

const MAIL_COLUMNS = `m.id, m.category, m.receivers_id, m.publication_id, m.reservation_id, m.product_type, m.organization_id,
  m.establishment_id, m.variables, m.locale, m.test_mode, m.status, m.correlation_id, m.scheduled_at, m.sending_date, m.contact_message_id,
  m.reply_to, m.force_sending, m.forced_by, m.created_at, m.updated_at, m.purged_at`;

/** The mail's deliveries as JSON, read by the same statement as the mail: one snapshot of both. */
const DELIVERIES_JSON = `(SELECT coalesce(json_agg(d ORDER BY d.position), '[]') FROM delivery d WHERE d.mail_id = m.id) AS deliveries`;

/** The reads of the mails API (detail, list, attempts) and of the views of mail events, so services never assemble SQL. */
@Injectable()
export class MailQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** `manager`: read inside a transaction that changed the mail (a retry answers the mail it queued again). */
  async findWithDeliveries(
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<MailWithDeliveries | null> {
    const rows: MailRow[] = await manager.query(
      `SELECT ${MAIL_COLUMNS}, ${DELIVERIES_JSON} FROM mail m WHERE m.id = $1`,
      [id],
    );
    return rows.length ? toMailWithDeliveries(rows[0]) : null;
  }

  /** Mails by id, in no particular order (the views of mail events). */
  async findManyWithDeliveries(ids: string[]): Promise<MailWithDeliveries[]> {
    if (!ids.length) return [];
    const rows: MailRow[] = await this.dataSource.query(
      `SELECT ${MAIL_COLUMNS}, ${DELIVERIES_JSON} FROM mail m WHERE m.id = ANY($1::uuid[])`,
      [ids],
    );
    return rows.map(toMailWithDeliveries);
  }

  /**
   * A page of mails, newest first, each with its deliveries read in the same statement, and the
   * exact number of mails of the filter. After `cursor` (the end of the previous page) the page is
   * an index range scan whatever its depth; without, an offset. The count of all mails, of one
   * category or of one status is kept in `mail_count`; other filters are counted on their index.
   */
  async findPage(
    query: ListMailsQueryDto,
    cursor?: KeysetCursor,
  ): Promise<{ rows: MailWithDeliveries[]; total: number; last?: KeysetCursor }> {
    const filters = new Conditions();
    const columns = {
      category: 'category',
      status: 'status',
      publicationId: 'publication_id',
      reservationId: 'reservation_id',
      organizationId: 'organization_id',
      establishmentId: 'establishment_id',
    } as const;
    for (const [field, column] of Object.entries(columns)) {
      const value = query[field as keyof typeof columns];
      if (value !== undefined) filters.add(`m.${column} = ?`, value);
    }
    if (query.receiverId !== undefined)
      filters.add('EXISTS (SELECT 1 FROM delivery d WHERE d.mail_id = m.id AND d.receiver_id = ?)', query.receiverId);
    if (query.from !== undefined) filters.add('m.created_at >= ?', new Date(query.from));
    if (query.until !== undefined) filters.add('m.created_at < ?', new Date(query.until));
    const counted = countedFilter(query, filters.count);

    const page = filters.copy();
    if (cursor)
      page.add(
        `(m.created_at, m.id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)`,
        cursor.createdAtMicros,
        cursor.id,
      );
    const offset = cursor ? 0 : (query.currentPage - 1) * query.sizePage;
    const [rows, [{ total }]]: [Array<MailRow & { created_us: string }>, Array<{ total: string }>] = await Promise.all([
      this.dataSource.query(
        // The page's ids first (an index scan that skips the offset without reading a row), then
        // the page's rows and deliveries: the projection is computed for those rows only.
        `SELECT ${MAIL_COLUMNS}, ${DELIVERIES_JSON}, (extract(epoch FROM m.created_at) * 1000000)::bigint AS created_us
         FROM (SELECT m.id FROM mail m ${page.where()}
               ORDER BY m.created_at DESC, m.id DESC LIMIT ${query.sizePage} OFFSET ${offset}) page
         JOIN mail m ON m.id = page.id
         ORDER BY m.created_at DESC, m.id DESC`,
        page.params,
      ),
      counted === undefined
        ? this.dataSource.query(`SELECT count(*) AS total FROM mail m ${filters.where()}`, filters.params)
        : this.dataSource.query(`SELECT coalesce((SELECT n FROM mail_count WHERE filter = $1), 0) AS total`, [counted]),
    ]);
    const tail = rows.at(-1);
    return {
      rows: rows.map(toMailWithDeliveries),
      total: Number(total),
      last: tail && { createdAtMicros: tail.created_us, id: tail.id },
    };
  }

  /** The variables of a mail that is still SCHEDULED, in `manager`'s transaction; null when it is not. */
  async findScheduledVariables(mailId: string, manager: EntityManager): Promise<Record<string, unknown> | null> {
    const rows: Array<{ variables: Record<string, unknown> }> = await manager.query(
      `SELECT variables FROM mail WHERE id = $1 AND status = 'SCHEDULED'`,
      [mailId],
    );
    return rows.length ? rows[0].variables : null;
  }

  /** Every attempt of one delivery, oldest first; null when the mail has no such receiver. */
  async findAttempts(mailId: string, receiverId: string): Promise<DeliveryAttempt[] | null> {
    const rows: Array<{ found: boolean; attempts: AttemptRow[] | null }> = await this.dataSource.query(
      `SELECT true AS found,
              (SELECT json_agg(a ORDER BY a.attempt) FROM delivery_attempt a WHERE a.delivery_id = d.id) AS attempts
       FROM delivery d WHERE d.mail_id = $1 AND d.receiver_id = $2`,
      [mailId, receiverId],
    );
    if (!rows.length) return null;
    return (rows[0].attempts ?? []).map((a) => ({
      attempt: a.attempt,
      startedAt: new Date(a.started_at),
      finishedAt: a.finished_at ? new Date(a.finished_at) : null,
      outcome: a.outcome,
      smtpResponse: a.smtp_response,
    }));
  }
}

interface MailRow {
  id: string;
  category: MailEntity['category'];
  receivers_id: string[];
  publication_id: string | null;
  reservation_id: string | null;
  product_type: MailEntity['productType'];
  organization_id: string | null;
  establishment_id: string | null;
  variables: MailEntity['variables'];
  locale: string | null;
  test_mode: boolean;
  status: MailStatus;
  correlation_id: string;
  scheduled_at: Date | null;
  sending_date: Date | null;
  contact_message_id: string | null;
  reply_to: string | null;
  purged_at: Date | null;
  force_sending: boolean;
  forced_by: string | null;
  created_at: Date;
  updated_at: Date;
  deliveries: DeliveryJson[];
}

/** A delivery row as `json_agg` writes it: snake_case keys, dates as text. */
interface DeliveryJson {
  id: string;
  mail_id: string;
  position: number;
  receiver_id: string;
  status: DeliveryEntity['status'];
  attempts: number;
  attempts_base: number;
  due_at: string;
  first_due_at: string;
  email: string | null;
  message_id: string;
  sent_at: string | null;
  error_code: DeliveryErrorCode | null;
  error: string | null;
  smtp_response: string | null;
  cancel_requested: boolean;
  complained_at: string | null;
  updated_at: string;
}

interface AttemptRow {
  attempt: number;
  started_at: string;
  finished_at: string | null;
  outcome: AttemptOutcome | null;
  smtp_response: string | null;
}

/** The `mail_count` row that holds the count of this filter, when it is one of those kept. */
function countedFilter(query: ListMailsQueryDto, filters: number): string | undefined {
  if (filters === 0) return 'all';
  if (filters === 1 && query.category !== undefined) return `category:${query.category}`;
  if (filters === 1 && query.status !== undefined) return `status:${query.status}`;
  return undefined;
}

const date = (value: string | null): Date | null => (value === null ? null : new Date(value));

function toMailWithDeliveries(row: MailRow): MailWithDeliveries {
  const mail = Object.assign(new MailEntity(), {
    id: row.id,
    category: row.category,
    receiversId: row.receivers_id,
    publicationId: row.publication_id,
    reservationId: row.reservation_id,
    productType: row.product_type,
    organizationId: row.organization_id,
    establishmentId: row.establishment_id,
    variables: row.variables,
    locale: row.locale,
    testMode: row.test_mode,
    status: row.status,
    correlationId: row.correlation_id,
    scheduledAt: row.scheduled_at,
    sendingDate: row.sending_date,
    contactMessageId: row.contact_message_id,
    replyTo: row.reply_to,
    purgedAt: row.purged_at,
    forceSending: row.force_sending,
    forcedBy: row.forced_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  const deliveries = row.deliveries.map((d) =>
    Object.assign(new DeliveryEntity(), {
      id: d.id,
      mailId: d.mail_id,
      position: d.position,
      receiverId: d.receiver_id,
      status: d.status,
      attempts: d.attempts,
      attemptsBase: d.attempts_base,
      dueAt: new Date(d.due_at),
      firstDueAt: new Date(d.first_due_at),
      email: d.email,
      messageId: d.message_id,
      sentAt: date(d.sent_at),
      errorCode: d.error_code,
      error: d.error,
      smtpResponse: d.smtp_response,
      cancelRequested: d.cancel_requested,
      complainedAt: date(d.complained_at),
      updatedAt: new Date(d.updated_at),
    }),
  );
  return { mail, deliveries };
}
