import { DataSource } from 'typeorm';
import { SUBSCRIPTION_CATEGORIES } from '../../catalog/mail-category';
import type { MailEntity } from '../../mails/mail.entity';
import type { ContactContext } from '../template.renderer';

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
    | 'forceSending'
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
   * The receiver's consent to the mail's category, when it is a SUBSCRIPTION category and the
   * receiver already has a row (read by the claim); null otherwise: a TRANSACTIONAL mail needs none,
   * and the first SUBSCRIPTION mail to a receiver makes the row (and its token) in the worker.
   */
  subscription: { subscribed: boolean; token: string } | null;
  /**
   * A cancellation reached it during an attempt whose worker then stopped: no attempt is opened,
   * the worker only records it CANCELLED (`attempt` is then the number of that last attempt).
   */
  cancelRequested: boolean;
}

/**
 * Claims up to `limit` due deliveries for this worker and records the attempt, in one statement:
 * each becomes SENDING with a lease of `leaseSeconds` (after which another worker may take it up
 * again), an attempt row is opened, an attempt left open by a dead worker is closed as a temporary
 * failure, and a scheduled mail whose time has come becomes PENDING. A delivery whose cancellation
 * was requested during that dead worker's attempt gets no new attempt: it is returned flagged, to
 * be recorded CANCELLED. `SKIP LOCKED`: workers never wait on each other nor claim the same
 * delivery. The receiver's subscription row is joined for the SUBSCRIPTION categories only (a key
 * look-up; TRANSACTIONAL mails skip it). The delivery worker's claim (src/delivery/mail-delivery.worker.ts).
 */
const SUBSCRIPTION_LIST = [...SUBSCRIPTION_CATEGORIES];

export async function claimDueDeliveries(
  db: DataSource,
  limit: number,
  leaseSeconds: number,
): Promise<ClaimedDelivery[]> {
  const rows: ClaimRow[] = await db.query(
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
            m.locale, m.test_mode, m.correlation_id, m.reply_to, m.force_sending,
            sub.email_subscribed AS s_subscribed, sub.unsubscribe_token AS s_token,
            cm.id AS cm_id, cm.name AS cm_name, cm.mail AS cm_mail, cm.object AS cm_object, cm.message AS cm_message, cm.conversation_id AS cm_conversation_id,
            CASE WHEN cm.id IS NULL THEN r.email ELSE c.email END AS r_email,
            CASE WHEN cm.id IS NULL THEN r.first_name ELSE m.variables->>'greetingName' END AS r_first_name,
            CASE WHEN cm.id IS NULL THEN r.last_name END AS r_last_name,
            CASE WHEN cm.id IS NULL THEN r.locale ELSE m.locale END AS r_locale,
            EXISTS (SELECT 1 FROM suppression s WHERE s.email = lower(CASE WHEN cm.id IS NULL THEN r.email ELSE c.email END)) AS r_suppressed
     FROM claimed c JOIN mail m ON m.id = c.mail_id
     LEFT JOIN contact_message cm ON cm.id = m.contact_message_id
     LEFT JOIN recipient r ON r.id = c.receiver_id AND m.contact_message_id IS NULL
     LEFT JOIN subscription sub ON m.category = ANY($3::text[]) AND sub.recipient_id = c.receiver_id AND sub.category = m.category`,
    [limit, leaseSeconds, SUBSCRIPTION_LIST],
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
      forceSending: row.force_sending,
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
    subscription: row.s_token === null ? null : { subscribed: row.s_subscribed!, token: row.s_token },
    cancelRequested: row.cancel_requested,
  }));
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
  force_sending: boolean;
  s_subscribed: boolean | null;
  s_token: string | null;
  cm_id: string | null;
  cm_name: string | null;
  cm_mail: string | null;
  cm_object: string | null;
  cm_message: string | null;
  cm_conversation_id: string | null;
}
