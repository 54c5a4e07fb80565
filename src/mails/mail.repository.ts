import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DeliveryEntity } from './delivery.entity';
import { ListMailsQueryDto } from './dto/list-mails.query.dto';
import { MailEntity } from './mail.entity';
import type { ContactContext } from '../delivery/template.renderer';
import { KeysetCursor } from '../common/pagination/cursor';
import { AttemptOutcome, DeliveryErrorCode, MailStatus, StoredDeliveryStatus } from './mail-status';

export interface MailWithDeliveries {
  mail: MailEntity;
  deliveries: DeliveryEntity[];
}

/** A delivery a worker claimed, with what it needs to send it (one round trip for a whole batch). */
export interface ClaimedDelivery {
  id: string;
  mailId: string;
  receiverId: string;
  messageId: string;
  /** The number of this attempt (the settle names it, so a late worker cannot settle a newer claim). */
  attempt: number;
  attemptsBase: number;
  firstDueAt: Date;
  mail: Pick<
    MailEntity,
    | 'id'
    | 'category'
    | 'publicationId'
    | 'reservationId'
    | 'productType'
    | 'organizationId'
    | 'establishmentId'
    | 'variables'
    | 'locale'
    | 'testMode'
    | 'correlationId'
    | 'replyTo'
  >;
  /** What a contact mail quotes: its contact message (null for other mails). */
  contact: ContactContext | null;
  /**
   * The receiver: the address a contact mail was built with (greeted by the name in its variables),
   * else the recipient table's, else null (then the HTTP directory may know it).
   */
  recipient: { email: string; firstName: string | null; lastName: string | null; locale: string | null } | null;
  /** The recipient table's address is on the suppression list (read by the claim, no extra round trip). */
  suppressed: boolean;
  /**
   * A cancellation reached it during an attempt whose worker then stopped: no attempt is opened,
   * the worker only records it CANCELLED (`attempt` is then the number of that last attempt).
   */
  cancelRequested: boolean;
}

/** How an attempt ended: the delivery is SENT, FAILED, or PENDING again until `dueAt`. */
export interface Settlement {
  id: string;
  attempt: number;
  status: 'SENT' | 'FAILED' | 'PENDING';
  outcome: AttemptOutcome;
  email: string | null;
  sentAt: Date | null;
  dueAt: Date | null;
  errorCode: DeliveryErrorCode | null;
  error: string | null;
  smtpResponse: string | null;
  /** The relay refused the address itself (5xx at RCPT TO): it joins the suppression list. */
  suppress?: boolean;
}

export interface DeliveryAttempt {
  attempt: number;
  startedAt: Date;
  finishedAt: Date | null;
  outcome: AttemptOutcome | null;
  smtpResponse: string | null;
}

/** Which mails a cancellation reaches; at least one id is set. */
export interface CancellationFilter {
  /** Leave alone every mail with a delivery in an attempt (the unread digest: one under way counts as sent). */
  leaveInFlight?: boolean;
  mailId?: string;
  reservationId?: string;
  publicationId?: string;
  organizationId?: string;
  establishmentId?: string;
  receiverId?: string;
  categories?: string[];
}

const MAIL_COLUMNS = `m.id, m.category, m.receivers_id, m.publication_id, m.reservation_id, m.product_type, m.organization_id,
  m.establishment_id, m.variables, m.locale, m.test_mode, m.status, m.correlation_id, m.scheduled_at, m.sending_date, m.contact_message_id,
  m.reply_to, m.created_at, m.updated_at`;

/** What a cancellation did: mails cancelled at once, and mails with deliveries in an attempt that will end CANCELLED or SENT. */
export interface CancellationOutcome {
  cancelled: string[];
  requested: string[];
}

/** The outbox event of a mail that reached a final status (SQL, on a `status` column). */
const MAIL_FINAL_EVENT = `CASE status WHEN 'FAILED' THEN 'mail.failed' WHEN 'CANCELLED' THEN 'mail.cancelled' ELSE 'mail.sent' END`;
const MAIL_FINAL_STATUSES = `('SENT', 'PARTIALLY_SENT', 'FAILED', 'CANCELLED')`;

/** The mail's deliveries as JSON, read by the same statement as the mail: one snapshot of both. */
const DELIVERIES_JSON = `(SELECT coalesce(json_agg(d ORDER BY d.position), '[]') FROM delivery d WHERE d.mail_id = m.id) AS deliveries`;

/** Named queries of mails and deliveries, so services never assemble SQL. */
@Injectable()
export class MailRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Mails and their deliveries in one statement whatever their number (a single statement is
   * atomic: no BEGIN/COMMIT round trips), fed by arrays: the batch endpoint and the group commit
   * of concurrent POSTs store up to hundreds of mails this way. `manager`: inside its transaction.
   */
  async insertMails(rows: MailWithDeliveries[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    const mails = rows.map((r) => r.mail);
    const deliveries = rows.flatMap((r) => r.deliveries);
    await manager.query(
      `WITH new_mails AS (
         INSERT INTO mail (id, category, receivers_id, publication_id, reservation_id, product_type, organization_id, establishment_id,
                           variables, locale, test_mode, status, correlation_id, scheduled_at, contact_message_id, reply_to, deliveries_total, created_at, updated_at)
         SELECT id, category, ARRAY(SELECT jsonb_array_elements_text(receivers)), publication_id, reservation_id, product_type, organization_id,
                establishment_id, variables, locale, test_mode, status, correlation_id, scheduled_at, contact_message_id, reply_to, jsonb_array_length(receivers),
                created_at, created_at
         FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::text[],
                     $11::boolean[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $24::uuid[], $25::text[])
           AS t (id, category, receivers, publication_id, reservation_id, product_type, organization_id, establishment_id, variables, locale,
                 test_mode, status, correlation_id, scheduled_at, created_at, contact_message_id, reply_to)
       )
       INSERT INTO delivery (id, mail_id, position, receiver_id, status, message_id, due_at, first_due_at, email, updated_at)
       SELECT id, mail_id, position, receiver_id, status, message_id, due_at, due_at, email, updated_at
       FROM unnest($16::uuid[], $17::uuid[], $18::int[], $19::text[], $20::text[], $21::text[], $22::timestamptz[], $23::timestamptz[], $26::text[])
         AS t (id, mail_id, position, receiver_id, status, message_id, due_at, updated_at, email)`,
      [
        mails.map((m) => m.id),
        mails.map((m) => m.category),
        mails.map((m) => JSON.stringify(m.receiversId)),
        mails.map((m) => m.publicationId),
        mails.map((m) => m.reservationId),
        mails.map((m) => m.productType),
        mails.map((m) => m.organizationId),
        mails.map((m) => m.establishmentId),
        mails.map((m) => JSON.stringify(m.variables)),
        mails.map((m) => m.locale),
        mails.map((m) => m.testMode),
        mails.map((m) => m.status),
        mails.map((m) => m.correlationId),
        mails.map((m) => m.scheduledAt),
        mails.map((m) => m.createdAt),
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.mailId),
        deliveries.map((d) => d.position),
        deliveries.map((d) => d.receiverId),
        deliveries.map((d) => d.status),
        deliveries.map((d) => d.messageId),
        deliveries.map((d) => d.dueAt),
        deliveries.map((d) => d.updatedAt),
        mails.map((m) => m.contactMessageId),
        mails.map((m) => m.replyTo),
        deliveries.map((d) => d.email),
      ],
    );
  }

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

  /**
   * Claims up to `limit` due deliveries for this worker and records the attempt, in one statement:
   * each becomes SENDING with a lease of `leaseSeconds` (after which another worker may take it up
   * again), an attempt row is opened, an attempt left open by a dead worker is closed as a temporary
   * failure, and a scheduled mail whose time has come becomes PENDING. A delivery whose cancellation
   * was requested during that dead worker's attempt gets no new attempt: it is returned flagged, to
   * be recorded CANCELLED. `SKIP LOCKED`: workers never
   * wait on each other nor claim the same delivery.
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    const rows: ClaimRow[] = await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM delivery
         WHERE status IN ('SCHEDULED', 'PENDING', 'SENDING') AND due_at <= now()
         ORDER BY due_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       ), lost AS (
         UPDATE delivery_attempt a SET finished_at = now(), outcome = 'TEMPORARY_FAILURE',
           smtp_response = 'The worker of this attempt stopped before recording its outcome; taken up again after its lease.'
         FROM due WHERE a.delivery_id = due.id AND a.finished_at IS NULL
       ), claimed AS (
         UPDATE delivery d SET status = 'SENDING', attempts = d.attempts + (NOT d.cancel_requested)::int, due_at = now() + make_interval(secs => $2), updated_at = now()
         FROM due WHERE d.id = due.id
         RETURNING d.id, d.mail_id, d.receiver_id, d.message_id, d.attempts, d.attempts_base, d.first_due_at, d.cancel_requested, d.email
       ), opened AS (
         INSERT INTO delivery_attempt (delivery_id, attempt, started_at) SELECT id, attempts, now() FROM claimed WHERE NOT cancel_requested
       ), started AS (
         UPDATE mail SET status = 'PENDING', updated_at = now() WHERE id IN (SELECT mail_id FROM claimed) AND status = 'SCHEDULED'
       )
       SELECT c.id, c.mail_id, c.receiver_id, c.message_id, c.attempts, c.attempts_base, c.first_due_at, c.cancel_requested,
              m.category, m.publication_id, m.reservation_id, m.product_type, m.organization_id, m.establishment_id, m.variables,
              m.locale, m.test_mode, m.correlation_id, m.reply_to,
              cm.id AS cm_id, cm.name AS cm_name, cm.mail AS cm_mail, cm.object AS cm_object, cm.message AS cm_message, cm.conversation_id AS cm_conversation_id,
              CASE WHEN cm.id IS NULL THEN r.email ELSE c.email END AS r_email,
              CASE WHEN cm.id IS NULL THEN r.first_name ELSE m.variables->>'greetingName' END AS r_first_name,
              CASE WHEN cm.id IS NULL THEN r.last_name END AS r_last_name,
              CASE WHEN cm.id IS NULL THEN r.locale ELSE m.locale END AS r_locale,
              EXISTS (SELECT 1 FROM suppression s WHERE s.email = lower(CASE WHEN cm.id IS NULL THEN r.email ELSE c.email END)) AS r_suppressed
       FROM claimed c JOIN mail m ON m.id = c.mail_id
       LEFT JOIN contact_message cm ON cm.id = m.contact_message_id
       LEFT JOIN recipient r ON r.id = c.receiver_id AND m.contact_message_id IS NULL`,
      [limit, leaseSeconds],
    );
    return rows.map((row) => ({
      id: row.id,
      mailId: row.mail_id,
      receiverId: row.receiver_id,
      messageId: row.message_id,
      attempt: row.attempts,
      attemptsBase: row.attempts_base,
      firstDueAt: row.first_due_at,
      mail: {
        id: row.mail_id,
        category: row.category,
        publicationId: row.publication_id,
        reservationId: row.reservation_id,
        productType: row.product_type,
        organizationId: row.organization_id,
        establishmentId: row.establishment_id,
        variables: row.variables,
        locale: row.locale,
        testMode: row.test_mode,
        correlationId: row.correlation_id,
        replyTo: row.reply_to,
      },
      contact:
        row.cm_id === null
          ? null
          : {
              name: row.cm_name!,
              mail: row.cm_mail!,
              object: row.cm_object!,
              message: row.cm_message!,
              contactId: row.cm_id,
              conversationId: row.cm_conversation_id!,
            },
      recipient:
        row.r_email === null
          ? null
          : { email: row.r_email, firstName: row.r_first_name, lastName: row.r_last_name, locale: row.r_locale },
      suppressed: row.r_suppressed,
      cancelRequested: row.cancel_requested,
    }));
  }

  /**
   * Records the outcome of many attempts in one statement: each delivery (only if it is still the
   * claim of that attempt), its attempt row, and its mail's counters and status. Counters are
   * incremented, so concurrent settles of one mail's deliveries add up whatever their order.
   * The same statement writes the outbox events (`mail.delivery.sent|failed` per settled delivery,
   * `mail.sent|failed` per mail that reached its final status; `data` holds ids, the webhook
   * renders the mail when it sends it) and adds the addresses the relay refused at RCPT TO to the
   * suppression list. A delivery whose cancellation was requested during the attempt ends CANCELLED
   * unless the relay accepted the copy (a mail that thereby ends CANCELLED gets `mail.cancelled`).
   * Returns the status each settled delivery now has (a delivery re-claimed meanwhile is not settled).
   */
  async settle(settlements: Settlement[]): Promise<Map<string, StoredDeliveryStatus>> {
    const s = settlements;
    const rows: Array<{ id: string; status: StoredDeliveryStatus }> = await this.dataSource.query(
      `WITH o AS (
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::boolean[])
           AS o (id, attempt, status, outcome, email, sent_at, due_at, error_code, error, smtp_response, suppress)
       ), suppressed AS (
         INSERT INTO suppression (email, reason, last_bounce)
         SELECT DISTINCT ON (lower(email)) lower(email), 'HARD_BOUNCE', smtp_response FROM o WHERE suppress AND email IS NOT NULL
         ON CONFLICT (email) DO UPDATE SET last_bounce = EXCLUDED.last_bounce, updated_at = now()
       ), settled AS (
         UPDATE delivery d SET status = CASE WHEN d.cancel_requested AND o.status <> 'SENT' THEN 'CANCELLED' ELSE o.status END,
           email = coalesce(o.email, d.email), sent_at = o.sent_at, due_at = coalesce(o.due_at, d.due_at),
           error_code = CASE WHEN d.cancel_requested AND o.status <> 'SENT' THEN NULL ELSE o.error_code END,
           error = CASE WHEN d.cancel_requested AND o.status <> 'SENT' THEN NULL ELSE o.error END,
           smtp_response = o.smtp_response, updated_at = now()
         FROM o WHERE d.id = o.id AND d.status = 'SENDING' AND d.attempts = o.attempt
         RETURNING d.id, d.mail_id, d.receiver_id, d.status, d.sent_at
       ), attempts AS (
         UPDATE delivery_attempt a SET finished_at = now(), outcome = o.outcome, smtp_response = o.smtp_response
         FROM o WHERE a.delivery_id = o.id AND a.attempt = o.attempt AND a.finished_at IS NULL
       ), per_mail AS (
         SELECT mail_id, count(*) FILTER (WHERE status = 'SENT') AS sent, count(*) FILTER (WHERE status = 'FAILED') AS failed,
                count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled, min(sent_at) AS first_sent
         FROM settled GROUP BY mail_id
       ), mails AS (
         UPDATE mail m SET deliveries_sent = m.deliveries_sent + p.sent, deliveries_failed = m.deliveries_failed + p.failed,
           deliveries_cancelled = m.deliveries_cancelled + p.cancelled,
           status = mail_status_of(m.deliveries_total, m.deliveries_sent + p.sent::int, m.deliveries_failed + p.failed::int, m.deliveries_cancelled + p.cancelled::int),
           sending_date = coalesce(m.sending_date, p.first_sent), updated_at = now()
         FROM per_mail p WHERE m.id = p.mail_id AND (p.sent > 0 OR p.failed > 0 OR p.cancelled > 0)
         RETURNING m.id, m.status, m.correlation_id
       ), events AS (
         INSERT INTO event (type, data, correlation_id)
         SELECT CASE s.status WHEN 'SENT' THEN 'mail.delivery.sent' ELSE 'mail.delivery.failed' END,
                jsonb_build_object('mailId', s.mail_id, 'receiverId', s.receiver_id), m.correlation_id
         FROM settled s JOIN mail m ON m.id = s.mail_id WHERE s.status IN ('SENT', 'FAILED')
         UNION ALL
         SELECT ${MAIL_FINAL_EVENT}, jsonb_build_object('mailId', id), correlation_id FROM mails WHERE status IN ${MAIL_FINAL_STATUSES}
       )
       SELECT id, status FROM settled`,
      [
        s.map((x) => x.id),
        s.map((x) => x.attempt),
        s.map((x) => x.status),
        s.map((x) => x.outcome),
        s.map((x) => x.email),
        s.map((x) => x.sentAt),
        s.map((x) => x.dueAt),
        s.map((x) => x.errorCode),
        s.map((x) => x.error),
        s.map((x) => x.smtpResponse),
        s.map((x) => x.suppress ?? false),
      ],
    );
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  // Each statement below ends in a SELECT: TypeORM answers an UPDATE … RETURNING with [rows, count].

  /**
   * Cancels what is still to be sent of every mail of the filter. Its unfinished deliveries are
   * locked first (a worker's claim holds them until it commits, so this waits for it and then sees
   * SENDING): those waiting (SCHEDULED, PENDING) become CANCELLED at once; those in an attempt
   * (SENDING) are marked, and the settle of that attempt makes them CANCELLED unless the relay
   * accepted the copy. No new attempt starts after this commits. A mail that reaches its final
   * status here gets its event (`mail.cancelled`, or `mail.sent` / `mail.failed` when some of its
   * deliveries had ended so) in the same statement, with the correlation id of the cancelling
   * request. In `manager`'s transaction when given (the unread digest is cancelled by the change
   * that read its messages).
   */
  async cancel(
    filter: CancellationFilter,
    correlationId: string | null = null,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<CancellationOutcome> {
    const filters = new Conditions();
    filters.add(`m.status IN ('SCHEDULED', 'PENDING')`);
    if (filter.mailId) filters.add('m.id = ?', filter.mailId);
    if (filter.reservationId) filters.add('m.reservation_id = ?', filter.reservationId);
    if (filter.publicationId) filters.add('m.publication_id = ?', filter.publicationId);
    if (filter.organizationId) filters.add('m.organization_id = ?', filter.organizationId);
    if (filter.establishmentId) filters.add('m.establishment_id = ?', filter.establishmentId);
    if (filter.receiverId)
      filters.add('m.id IN (SELECT mail_id FROM delivery WHERE receiver_id = ?)', filter.receiverId);
    if (filter.categories?.length) filters.add('m.category = ANY(?)', filter.categories);
    const params = [...filters.params, correlationId];
    const rows: Array<{ id: string; in_flight: boolean }> = await manager.query(
      `WITH locked AS (
         SELECT d.id, d.mail_id, d.status FROM delivery d
         WHERE d.mail_id IN (SELECT m.id FROM mail m ${filters.where()}) AND d.status IN ('SCHEDULED', 'PENDING', 'SENDING')
         ORDER BY d.id
         FOR UPDATE
       ), eligible AS (
         SELECT mail_id, bool_or(status = 'SENDING') AS in_flight FROM locked GROUP BY mail_id
         ${filter.leaveInFlight ? `HAVING NOT bool_or(status = 'SENDING')` : ''}
       ), touched AS (
         SELECT l.* FROM locked l JOIN eligible e ON e.mail_id = l.mail_id
       ), cancelled AS (
         UPDATE delivery d SET status = 'CANCELLED', updated_at = now()
         FROM touched t WHERE d.id = t.id AND t.status IN ('SCHEDULED', 'PENDING')
         RETURNING d.mail_id
       ), requested AS (
         UPDATE delivery d SET cancel_requested = true, updated_at = now()
         FROM touched t WHERE d.id = t.id AND t.status = 'SENDING'
       ), counted AS (
         SELECT mail_id, count(*)::int AS n FROM cancelled GROUP BY mail_id
       ), mails AS (
         UPDATE mail m SET deliveries_cancelled = m.deliveries_cancelled + c.n,
           status = mail_status_of(m.deliveries_total, m.deliveries_sent, m.deliveries_failed, m.deliveries_cancelled + c.n), updated_at = now()
         FROM counted c WHERE m.id = c.mail_id
         RETURNING m.id, m.status, m.correlation_id
       ), events AS (
         INSERT INTO event (type, data, correlation_id)
         SELECT ${MAIL_FINAL_EVENT}, jsonb_build_object('mailId', id), coalesce($${params.length}::text, correlation_id) FROM mails WHERE status IN ${MAIL_FINAL_STATUSES}
       )
       SELECT mail_id AS id, in_flight FROM eligible`,
      params,
    );
    return {
      cancelled: rows.filter((row) => !row.in_flight).map((row) => row.id),
      requested: rows.filter((row) => row.in_flight).map((row) => row.id),
    };
  }

  /** Moves a mail that is still wholly SCHEDULED to another time; false when it is not (any more). */
  async reschedule(mailId: string, scheduledAt: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH locked AS (
         SELECT status FROM delivery WHERE mail_id = $1 ORDER BY id FOR UPDATE
       ), eligible AS (
         SELECT $1::uuid AS mail_id FROM locked HAVING bool_and(status = 'SCHEDULED')
       ), moved AS (
         UPDATE delivery SET due_at = $2, first_due_at = $2, updated_at = now()
         WHERE mail_id IN (SELECT mail_id FROM eligible) AND status = 'SCHEDULED'
       ), mails AS (
         UPDATE mail m SET scheduled_at = $2, updated_at = now() FROM eligible e WHERE m.id = e.mail_id AND m.status = 'SCHEDULED'
         RETURNING m.id
       )
       SELECT id FROM mails`,
      [mailId, scheduledAt],
    );
    return rows.length > 0;
  }

  /**
   * Queues the FAILED deliveries of a mail again with a fresh retry budget; returns how many. Not
   * for a mail that was cancelled, even in part: no attempt starts once a cancellation was answered.
   * In `manager`'s transaction (the one that stores the Idempotency-Key's answer).
   */
  async retryFailed(mailId: string, manager: EntityManager): Promise<number> {
    const rows: Array<{ count: number }> = await manager.query(
      `WITH retried AS (
         UPDATE delivery SET status = 'PENDING', due_at = now(), first_due_at = now(), attempts_base = attempts,
           error_code = NULL, error = NULL, smtp_response = NULL, updated_at = now()
         WHERE mail_id = $1 AND status = 'FAILED'
           AND NOT EXISTS (SELECT 1 FROM delivery c WHERE c.mail_id = $1 AND (c.status = 'CANCELLED' OR c.cancel_requested))
         RETURNING mail_id
       ), counted AS (
         SELECT count(*)::int AS count FROM retried
       ), mails AS (
         UPDATE mail m SET deliveries_failed = m.deliveries_failed - c.count,
           status = mail_status_of(m.deliveries_total, m.deliveries_sent, m.deliveries_failed - c.count, m.deliveries_cancelled), updated_at = now()
         FROM counted c WHERE m.id = $1 AND c.count > 0
       )
       SELECT count FROM counted`,
      [mailId],
    );
    return rows[0].count;
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
  updated_at: string;
}

interface ClaimRow {
  id: string;
  mail_id: string;
  receiver_id: string;
  message_id: string;
  attempts: number;
  attempts_base: number;
  first_due_at: Date;
  category: MailEntity['category'];
  publication_id: string | null;
  reservation_id: string | null;
  product_type: MailEntity['productType'];
  organization_id: string | null;
  establishment_id: string | null;
  variables: MailEntity['variables'];
  locale: string | null;
  test_mode: boolean;
  correlation_id: string;
  r_email: string | null;
  r_first_name: string | null;
  r_last_name: string | null;
  r_locale: string | null;
  r_suppressed: boolean;
  cancel_requested: boolean;
  reply_to: string | null;
  cm_id: string | null;
  cm_name: string | null;
  cm_mail: string | null;
  cm_object: string | null;
  cm_message: string | null;
  cm_conversation_id: string | null;
}

interface AttemptRow {
  attempt: number;
  started_at: string;
  finished_at: string | null;
  outcome: AttemptOutcome | null;
  smtp_response: string | null;
}

/** SQL conditions joined by AND, each `?` numbered as a parameter in the order they are added. */
class Conditions {
  private readonly sql: string[] = [];
  readonly params: unknown[] = [];

  add(condition: string, ...values: unknown[]): void {
    this.sql.push(condition.replace(/\?/g, () => `$${this.params.push(values.shift())}`));
  }

  get count(): number {
    return this.sql.length;
  }

  where(): string {
    return this.sql.length ? `WHERE ${this.sql.join(' AND ')}` : '';
  }

  copy(): Conditions {
    const copy = new Conditions();
    copy.sql.push(...this.sql);
    copy.params.push(...this.params);
    return copy;
  }
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
      updatedAt: new Date(d.updated_at),
    }),
  );
  return { mail, deliveries };
}
