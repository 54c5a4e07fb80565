import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Consent (contract A3): a row per receiver and SUBSCRIPTION category once either a mail of it was
 * sent (its one-click unsubscribe token is made then) or a preference was set. `unsubscribe_token`
 * is random and kept for ever, so a link in an old mail still works; it names the receiver and the
 * category through this row alone. A mail may be sent despite a refusal (`force_sending`), and
 * records who asked.
 */
export class Consent1765000110000 implements MigrationInterface {
  name = 'Consent1765000110000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE subscription (
        recipient_id text NOT NULL,
        category text NOT NULL,
        email_subscribed boolean NOT NULL DEFAULT true,
        changed_at timestamptz NULL,
        source text NULL,
        unsubscribe_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT subscription_pkey PRIMARY KEY (recipient_id, category),
        CONSTRAINT subscription_unsubscribe_token_key UNIQUE (unsubscribe_token)
      )`);
    await queryRunner.query(
      `ALTER TABLE mail ADD COLUMN force_sending boolean NOT NULL DEFAULT false, ADD COLUMN forced_by text NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE mail DROP COLUMN forced_by, DROP COLUMN force_sending`);
    await queryRunner.query(`DROP TABLE subscription`);
  }
}
