import { DataSource } from 'typeorm';
import { AttemptOutcome, DeliveryErrorCode, StoredDeliveryStatus } from '../../mails/mail-status';
import { MAIL_FINAL_EVENT, MAIL_FINAL_STATUSES } from '../../mails/sql/mail-final-event';

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
export async function settleDeliveries(
  db: DataSource,
  settlements: Settlement[],
): Promise<Map<string, StoredDeliveryStatus>> {
  const s = settlements;
  const rows: Array<{ id: string; status: StoredDeliveryStatus }> = await db.query(
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
