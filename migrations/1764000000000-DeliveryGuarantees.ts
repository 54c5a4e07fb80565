import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The delivery table becomes its own queue: a delivery is claimed with a lease (`due_at` is when it
 * is next due, or when the lease of a SENDING delivery runs out), every attempt is kept, errors
 * carry a code, and mails can be scheduled and cancelled. Idempotency keys are scoped per caller.
 */
export class DeliveryGuarantees1764000000000 implements MigrationInterface {
  name = 'DeliveryGuarantees1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Counters of the mail's deliveries by outcome: settling adds to them (safe under concurrent
    // settles of one mail's deliveries, unlike recounting from a snapshot) and the status follows.
    await queryRunner.query(`
      ALTER TABLE mail
        ADD COLUMN scheduled_at timestamptz,
        ADD COLUMN deliveries_total int NOT NULL DEFAULT 0,
        ADD COLUMN deliveries_sent int NOT NULL DEFAULT 0,
        ADD COLUMN deliveries_failed int NOT NULL DEFAULT 0,
        ADD COLUMN deliveries_cancelled int NOT NULL DEFAULT 0`);
    await queryRunner.query(`
      UPDATE mail m SET deliveries_total = s.total, deliveries_sent = s.sent, deliveries_failed = s.failed, deliveries_cancelled = s.cancelled
      FROM (SELECT mail_id, count(*) AS total, count(*) FILTER (WHERE status = 'SENT') AS sent,
                   count(*) FILTER (WHERE status = 'FAILED') AS failed, count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled
            FROM delivery GROUP BY mail_id) s
      WHERE m.id = s.mail_id`);
    await queryRunner.query(`
      ALTER TABLE delivery
        ADD COLUMN due_at timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN first_due_at timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN attempts_base int NOT NULL DEFAULT 0,
        ADD COLUMN error_code text,
        ADD COLUMN smtp_response text`);
    // Deliveries queued by the former pg-boss jobs are taken up by the new worker as they are.
    await queryRunner.query(
      `UPDATE delivery SET error_code = CASE WHEN error = 'RECIPIENT_NOT_FOUND' THEN 'RECIPIENT_NOT_FOUND' WHEN status = 'FAILED' THEN 'SMTP_REJECTED' WHEN error IS NOT NULL THEN 'SMTP_TEMPORARY' END`,
    );
    // The worker's claim: the due deliveries, oldest first, among the few that are not settled.
    await queryRunner.query(
      `CREATE INDEX delivery_due_idx ON delivery (due_at) WHERE status IN ('SCHEDULED', 'PENDING', 'SENDING')`,
    );
    // Cancellations by receiver walk delivery_receiver_idx; by business id, the mail indexes.
    await queryRunner.query(`
      CREATE TABLE delivery_attempt (
        delivery_id uuid NOT NULL REFERENCES delivery (id) ON DELETE CASCADE,
        attempt int NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        outcome text,
        smtp_response text,
        PRIMARY KEY (delivery_id, attempt)
      )`);
    // A mail's status from its delivery counters once none is scheduled any more (one definition for every writer).
    await queryRunner.query(`
      CREATE FUNCTION mail_status_of(total int, sent int, failed int, cancelled int) RETURNS text
      LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE
          WHEN total - sent - failed - cancelled > 0 THEN 'PENDING'
          WHEN sent = total THEN 'SENT'
          WHEN cancelled = total THEN 'CANCELLED'
          WHEN sent > 0 THEN 'PARTIALLY_SENT'
          ELSE 'FAILED' END
      $$`);
    await queryRunner.query(`ALTER TABLE idempotency_key ADD COLUMN caller text NOT NULL DEFAULT ''`);
    await queryRunner.query(
      `ALTER TABLE idempotency_key DROP CONSTRAINT idempotency_key_pkey, ADD PRIMARY KEY (caller, scope, key)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM idempotency_key WHERE caller <> ''`);
    await queryRunner.query(
      `ALTER TABLE idempotency_key DROP CONSTRAINT idempotency_key_pkey, ADD PRIMARY KEY (scope, key)`,
    );
    await queryRunner.query(`ALTER TABLE idempotency_key DROP COLUMN caller`);
    await queryRunner.query(`DROP FUNCTION mail_status_of`);
    await queryRunner.query(`DROP TABLE delivery_attempt`);
    await queryRunner.query(`DROP INDEX delivery_due_idx`);
    await queryRunner.query(
      `ALTER TABLE delivery DROP COLUMN due_at, DROP COLUMN first_due_at, DROP COLUMN attempts_base, DROP COLUMN error_code, DROP COLUMN smtp_response`,
    );
    await queryRunner.query(
      `ALTER TABLE mail DROP COLUMN scheduled_at, DROP COLUMN deliveries_total, DROP COLUMN deliveries_sent, DROP COLUMN deliveries_failed, DROP COLUMN deliveries_cancelled`,
    );
  }
}
