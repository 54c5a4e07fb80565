import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Conditions } from './sql/conditions';
import { MAIL_FINAL_EVENT, MAIL_FINAL_STATUSES } from './sql/mail-final-event';

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

/** What a cancellation did: mails cancelled at once, and mails with deliveries in an attempt that will end CANCELLED or SENT. */
export interface CancellationOutcome {
  cancelled: string[];
  requested: string[];
}

/** The admin commands on mails (cancel, reschedule, retry), each one statement. */
@Injectable()
export class MailCommands {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

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
   * Nor for a purged mail: its variables and addresses are gone.
   * In `manager`'s transaction (the one that stores the Idempotency-Key's answer).
   */
  async retryFailed(mailId: string, manager: EntityManager): Promise<number> {
    const rows: Array<{ count: number }> = await manager.query(
      `WITH retried AS (
         UPDATE delivery SET status = 'PENDING', due_at = now(), first_due_at = now(), attempts_base = attempts,
           error_code = NULL, error = NULL, smtp_response = NULL, updated_at = now()
         WHERE mail_id = $1 AND status = 'FAILED'
           AND NOT EXISTS (SELECT 1 FROM delivery c WHERE c.mail_id = $1 AND (c.status = 'CANCELLED' OR c.cancel_requested))
           AND NOT EXISTS (SELECT 1 FROM mail p WHERE p.id = $1 AND p.purged_at IS NOT NULL)
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
}
