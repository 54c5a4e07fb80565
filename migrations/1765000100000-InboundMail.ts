import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Mail that comes back (contract A2): every inbound message and what it became, its raw bytes kept
 * INBOUND_RETENTION_DAYS (the maintenance job deletes older rows). `dedupe_key` (the Message-ID, or
 * a digest of the bytes when there is none) makes the same message arriving twice count once: the
 * second insert waits for the first transaction and then finds the key taken. A complaint marks
 * the delivery it names (`complained_at`); bounces and delays are attempt rows of their delivery.
 */
export class InboundMail1765000100000 implements MigrationInterface {
  name = 'InboundMail1765000100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE inbound_message (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        via text NOT NULL,
        envelope_from text NULL,
        from_address text NULL,
        to_addresses text[] NOT NULL,
        subject text NULL,
        message_id text NULL,
        dedupe_key text NOT NULL,
        delivery_id uuid NULL,
        mail_id uuid NULL,
        contact_id uuid NULL,
        conversation_id uuid NULL,
        posted_message_id uuid NULL,
        reason text NULL,
        size int NOT NULL,
        raw bytea NOT NULL,
        CONSTRAINT inbound_message_dedupe_key_key UNIQUE (dedupe_key)
      )`);
    await queryRunner.query(`CREATE INDEX inbound_message_received_idx ON inbound_message (received_at DESC, id DESC)`);
    await queryRunner.query(
      `CREATE INDEX inbound_message_kind_received_idx ON inbound_message (kind, received_at DESC, id DESC)`,
    );
    await queryRunner.query(`ALTER TABLE delivery ADD COLUMN complained_at timestamptz NULL`);
    // Threading by In-Reply-To/References and complaints name a copy by the Message-ID we gave it.
    await queryRunner.query(`CREATE INDEX delivery_message_id_idx ON delivery (message_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX delivery_message_id_idx`);
    await queryRunner.query(`ALTER TABLE delivery DROP COLUMN complained_at`);
    await queryRunner.query(`DROP TABLE inbound_message`);
  }
}
