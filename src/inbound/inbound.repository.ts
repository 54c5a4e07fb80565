import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { InboundKind } from './classify';

/** One copy we sent, as inbound mail needs it: who it went to and what thread it belongs to. */
export interface SentCopy {
  deliveryId: string;
  mailId: string;
  receiverId: string;
  /** The address it was sent to (null if it never left). */
  email: string | null;
  status: string;
  category: string;
  /** The contact thread of a CONTACT_* mail (its opener's id). */
  contactThreadId: string | null;
  /** The conversation an unread digest names. */
  conversationId: string | null;
}

export interface InboundRecord {
  id: string;
  kind: InboundKind | 'REJECTED' | 'UNSUBSCRIBE';
  receivedAt: Date;
  via: 'SMTP' | 'HTTP';
  envelopeFrom: string | null;
  from: string | null;
  to: string[];
  subject: string | null;
  messageId: string | null;
  deliveryId: string | null;
  mailId: string | null;
  contactId: string | null;
  conversationId: string | null;
  postedMessageId: string | null;
  reason: string | null;
  size: number;
}

export type NewInbound = Omit<InboundRecord, 'receivedAt' | 'size'> & { dedupeKey: string; raw: Buffer };

/** What an inbound message became, written once its effect is applied. */
export type InboundOutcome = Pick<
  InboundRecord,
  'kind' | 'deliveryId' | 'mailId' | 'contactId' | 'conversationId' | 'postedMessageId' | 'reason'
>;

const COPY = `SELECT d.id AS "deliveryId", d.mail_id AS "mailId", d.receiver_id AS "receiverId", d.email, d.status,
                     m.category, cm.conversation_id AS "contactThreadId",
                     CASE WHEN m.category = 'CONVERSATION_UNREAD_MESSAGES' THEN m.variables->>'conversationId' END AS "conversationId"
              FROM delivery d JOIN mail m ON m.id = d.mail_id LEFT JOIN contact_message cm ON cm.id = m.contact_message_id`;

const RECORD = `id, kind, received_at AS "receivedAt", via, envelope_from AS "envelopeFrom", from_address AS "from",
                to_addresses AS "to", subject, message_id AS "messageId", delivery_id AS "deliveryId", mail_id AS "mailId",
                contact_id AS "contactId", conversation_id AS "conversationId", posted_message_id AS "postedMessageId",
                reason, size`;

/**
 * Inbound messages and the changes they make to deliveries. Each `…Within` runs in the caller's
 * transaction: a message is recorded if and only if its effect is, so a message that fails half
 * way (Postgres gone) is refused to its sender, who sends it again, and is never half applied.
 */
@Injectable()
export class InboundRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('READ COMMITTED', work);
  }

  /**
   * Records a message, or returns null when one with the same dedupe key exists: a concurrent copy
   * of the same message waits here for the first one's transaction, then finds its key.
   */
  async insertWithin(manager: EntityManager, record: NewInbound): Promise<string | null> {
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO inbound_message (id, kind, via, envelope_from, from_address, to_addresses, subject, message_id, dedupe_key,
                                    delivery_id, mail_id, contact_id, conversation_id, posted_message_id, reason, size, raw)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [
        record.id,
        record.kind,
        record.via,
        record.envelopeFrom,
        record.from,
        record.to,
        record.subject,
        record.messageId,
        record.dedupeKey,
        record.deliveryId,
        record.mailId,
        record.contactId,
        record.conversationId,
        record.postedMessageId,
        record.reason,
        record.raw.length,
        record.raw,
      ],
    );
    return rows[0]?.id ?? null;
  }

  async recordOutcomeWithin(manager: EntityManager, id: string, outcome: InboundOutcome): Promise<void> {
    await manager.query(
      `UPDATE inbound_message SET kind = $2, delivery_id = $3, mail_id = $4, contact_id = $5, conversation_id = $6,
              posted_message_id = $7, reason = $8 WHERE id = $1`,
      [
        id,
        outcome.kind,
        outcome.deliveryId,
        outcome.mailId,
        outcome.contactId,
        outcome.conversationId,
        outcome.postedMessageId,
        outcome.reason,
      ],
    );
  }

  async findByDedupeKey(dedupeKey: string): Promise<InboundRecord | null> {
    const rows: InboundRecord[] = await this.dataSource.query(
      `SELECT ${RECORD} FROM inbound_message WHERE dedupe_key = $1`,
      [dedupeKey],
    );
    return rows[0] ?? null;
  }

  async findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<InboundRecord | null> {
    const rows: InboundRecord[] = await manager.query(`SELECT ${RECORD} FROM inbound_message WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async findPage(
    kind: string | undefined,
    currentPage: number,
    sizePage: number,
  ): Promise<{ rows: InboundRecord[]; total: number }> {
    const where = kind === undefined ? '' : 'WHERE kind = $1';
    const params = kind === undefined ? [] : [kind];
    const [rows, [{ total }]]: [InboundRecord[], Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(
        `SELECT ${RECORD} FROM inbound_message ${where} ORDER BY received_at DESC, id DESC
         LIMIT ${sizePage} OFFSET ${(currentPage - 1) * sizePage}`,
        params,
      ),
      this.dataSource.query(`SELECT count(*)::int AS total FROM inbound_message ${where}`, params),
    ]);
    return { rows, total };
  }

  async copyWithin(manager: EntityManager, deliveryId: string): Promise<SentCopy | null> {
    const rows: SentCopy[] = await manager.query(`${COPY} WHERE d.id = $1`, [deliveryId]);
    return rows[0] ?? null;
  }

  /** The copies that carried one of these Message-IDs (In-Reply-To, References, a report's original). */
  async copiesByMessageIdWithin(manager: EntityManager, messageIds: string[]): Promise<SentCopy[]> {
    if (!messageIds.length) return [];
    return manager.query(`${COPY} WHERE d.message_id = ANY($1::text[])`, [messageIds]);
  }

  /** The copy of a mail sent to an address (a complaint that names the mail by X-Mail-Id). */
  async copyOfMailWithin(manager: EntityManager, mailId: string, email: string): Promise<SentCopy | null> {
    const rows: SentCopy[] = await manager.query(`${COPY} WHERE d.mail_id = $1 AND lower(d.email) = lower($2)`, [
      mailId,
      email,
    ]);
    return rows[0] ?? null;
  }

  /**
   * A copy the relay accepted (SENT) failed later: it becomes BOUNCED and counts as failed in its
   * mail's counters and status; the report is an attempt row of the delivery; the address joins the
   * suppression list when the failure is permanent; `mail.delivery.bounced` is written. Returns
   * false when the delivery was not SENT (nothing changes then).
   */
  async bounceWithin(
    manager: EntityManager,
    deliveryId: string,
    report: { message: string; smtpResponse: string; suppress: boolean },
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `WITH d AS (
         UPDATE delivery SET status = 'BOUNCED', error_code = 'BOUNCED', error = $2, smtp_response = $3, updated_at = now()
         WHERE id = $1 AND status = 'SENT'
         RETURNING id, mail_id, receiver_id, email, attempts
       ), m AS (
         UPDATE mail SET deliveries_sent = deliveries_sent - 1, deliveries_failed = deliveries_failed + 1,
           status = mail_status_of(deliveries_total, deliveries_sent - 1, deliveries_failed + 1, deliveries_cancelled),
           updated_at = now()
         FROM d WHERE mail.id = d.mail_id
         RETURNING mail.id, mail.correlation_id
       ), report AS (
         INSERT INTO delivery_attempt (delivery_id, attempt, started_at, finished_at, outcome, smtp_response)
         SELECT d.id, greatest(d.attempts, (SELECT max(attempt) FROM delivery_attempt WHERE delivery_id = d.id)) + 1,
                now(), now(), 'BOUNCED', $3
         FROM d
       ), suppressed AS (
         INSERT INTO suppression (email, reason, last_bounce)
         SELECT lower(email), 'HARD_BOUNCE', $3 FROM d WHERE $4 AND email IS NOT NULL
         ON CONFLICT (email) DO UPDATE SET last_bounce = EXCLUDED.last_bounce, updated_at = now()
       ), events AS (
         INSERT INTO event (type, data, correlation_id)
         SELECT 'mail.delivery.bounced', jsonb_build_object('mailId', d.mail_id, 'receiverId', d.receiver_id), m.correlation_id
         FROM d JOIN m ON m.id = d.mail_id
       )
       SELECT id FROM d`,
      [deliveryId, report.message, report.smtpResponse, report.suppress],
    );
    return rows.length > 0;
  }

  /** A delayed-delivery report: an attempt row of the delivery (DELAYED), no change of status. */
  async delayWithin(manager: EntityManager, deliveryId: string, smtpResponse: string): Promise<void> {
    await manager.query(
      `INSERT INTO delivery_attempt (delivery_id, attempt, started_at, finished_at, outcome, smtp_response)
       SELECT d.id, greatest(d.attempts, (SELECT max(attempt) FROM delivery_attempt WHERE delivery_id = d.id)) + 1,
              now(), now(), 'DELAYED', $2
       FROM delivery d WHERE d.id = $1`,
      [deliveryId, smtpResponse],
    );
  }

  /**
   * A complaint: the address joins the suppression list (COMPLAINT; an address already listed keeps
   * its reason), the delivery keeps its status and shows `complainedAt`, `mail.delivery.complained`
   * is written (once per delivery).
   */
  async complainWithin(manager: EntityManager, copy: SentCopy, address: string): Promise<void> {
    await manager.query(
      `WITH d AS (
         UPDATE delivery SET complained_at = now(), updated_at = now() WHERE id = $1 AND complained_at IS NULL
         RETURNING id, mail_id, receiver_id
       ), suppressed AS (
         INSERT INTO suppression (email, reason, note) VALUES (lower($2), 'COMPLAINT', 'Marked a mail as spam')
         ON CONFLICT (email) DO NOTHING
       )
       INSERT INTO event (type, data, correlation_id)
       SELECT 'mail.delivery.complained', jsonb_build_object('mailId', d.mail_id, 'receiverId', d.receiver_id), m.correlation_id
       FROM d JOIN mail m ON m.id = d.mail_id`,
      [copy.deliveryId, address],
    );
  }
}
