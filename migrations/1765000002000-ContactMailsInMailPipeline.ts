import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One outgoing pipeline: the mails of contact threads become mails with deliveries (categories
 * CONTACT_FORWARD, CONTACT_ACKNOWLEDGEMENT, CONTACT_REPLY), with their retries, suppressions,
 * cancellation, events and webhooks. Each contact notification is moved over under its own id and
 * Message-ID (pending ones are sent by the mail workers; sent and failed ones keep their history),
 * then the notification table and pg-boss's schema (its first queue) go.
 *
 * A contact mail goes to an address, not a user id: its delivery holds the address from the start,
 * and `receiver_id` names who it is for (`support`, the writer's user id, else `contact:<thread>`).
 */
export class ContactMailsInMailPipeline1765000002000 implements MigrationInterface {
  name = 'ContactMailsInMailPipeline1765000002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE mail
        ADD COLUMN contact_message_id uuid CONSTRAINT mail_contact_message_id_fkey REFERENCES contact_message (id) ON DELETE CASCADE,
        ADD COLUMN reply_to text`);
    await queryRunner.query(
      `CREATE INDEX mail_contact_message_idx ON mail (contact_message_id) WHERE contact_message_id IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TEMPORARY TABLE moved ON COMMIT DROP AS
      SELECT n.*, cm.conversation_id,
             CASE WHEN n.kind = 'CONTACT_FORWARD' OR (n.kind = 'CONTACT_REPLY' AND lower(n.to_address) <> lower(opener.mail)) THEN 'support'
                  ELSE coalesce(opener.transmitter_id, 'contact:' || cm.conversation_id) END AS receiver_id,
             CASE n.status WHEN 'SENT' THEN 'SENT' WHEN 'FAILED' THEN 'FAILED' ELSE 'PENDING' END AS final
      FROM contact_notification n
      JOIN contact_message cm ON cm.id = n.contact_message_id
      JOIN contact_message opener ON opener.id = cm.conversation_id`);
    await queryRunner.query(`
      INSERT INTO mail (id, category, receivers_id, variables, locale, test_mode, status, correlation_id, sending_date, contact_message_id, reply_to,
                        deliveries_total, deliveries_sent, deliveries_failed, created_at, updated_at)
      SELECT id, kind, ARRAY[receiver_id], CASE WHEN first_name IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('greetingName', first_name) END, locale,
             false, final, correlation_id, sent_at, contact_message_id, reply_to,
             1, (final = 'SENT')::int, (final = 'FAILED')::int, created_at, updated_at
      FROM moved`);
    await queryRunner.query(`
      INSERT INTO delivery (id, mail_id, position, receiver_id, status, attempts, due_at, first_due_at, email, message_id, sent_at, error_code, error, updated_at)
      SELECT gen_random_uuid(), id, 0, receiver_id, final, 0, now(), created_at, to_address, message_id, sent_at,
             CASE final WHEN 'FAILED' THEN CASE WHEN error LIKE 'Gave up%' THEN 'RETRIES_EXHAUSTED' ELSE 'SMTP_REJECTED' END END,
             CASE final WHEN 'FAILED' THEN error END, updated_at
      FROM moved`);
    await queryRunner.query(`DROP TABLE contact_notification`);
    await queryRunner.query(`DROP SCHEMA IF EXISTS pgboss CASCADE`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE contact_notification (
        id uuid PRIMARY KEY,
        contact_message_id uuid NOT NULL CONSTRAINT contact_notification_contact_message_id_fkey REFERENCES contact_message (id) ON DELETE CASCADE,
        kind text NOT NULL,
        to_address text NOT NULL,
        reply_to text,
        first_name text,
        locale text NOT NULL,
        status text NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        message_id text NOT NULL,
        error text,
        sent_at timestamptz,
        correlation_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX contact_notification_message_idx ON contact_notification (contact_message_id)`,
    );
    await queryRunner.query(`
      INSERT INTO contact_notification (id, contact_message_id, kind, to_address, reply_to, first_name, locale, status, attempts, message_id, error, sent_at, correlation_id, created_at, updated_at)
      SELECT m.id, m.contact_message_id, m.category, d.email, m.reply_to, m.variables->>'greetingName', coalesce(m.locale, 'fr'),
             CASE WHEN d.status IN ('SENT', 'FAILED') THEN d.status ELSE 'PENDING' END, d.attempts, d.message_id, d.error, d.sent_at, m.correlation_id, m.created_at, m.updated_at
      FROM mail m JOIN delivery d ON d.mail_id = m.id
      WHERE m.contact_message_id IS NOT NULL AND d.status <> 'CANCELLED'`);
    await queryRunner.query(`DELETE FROM mail WHERE contact_message_id IS NOT NULL`);
    await queryRunner.query(`DROP INDEX mail_contact_message_idx`);
    await queryRunner.query(`ALTER TABLE mail DROP COLUMN contact_message_id, DROP COLUMN reply_to`);
  }
}
