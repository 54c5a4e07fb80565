import { MigrationInterface, QueryRunner } from 'typeorm';

/** Mails, their deliveries, the recipient directory and idempotency keys. */
export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE mail (
        id uuid PRIMARY KEY,
        category text NOT NULL,
        receivers_id text[] NOT NULL,
        publication_id text,
        reservation_id text,
        product_type text,
        organization_id text,
        establishment_id text,
        variables jsonb NOT NULL DEFAULT '{}',
        locale text,
        test_mode boolean NOT NULL DEFAULT false,
        status text NOT NULL,
        correlation_id text NOT NULL,
        sending_date timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The list is newest first; each filter gets an index ending with the sort key, so a filtered
    // page is an index range scan rather than a sort of every match.
    await queryRunner.query(`CREATE INDEX mail_created_idx ON mail (created_at DESC, id DESC)`);
    for (const column of [
      'category',
      'status',
      'publication_id',
      'reservation_id',
      'organization_id',
      'establishment_id',
    ]) {
      await queryRunner.query(`CREATE INDEX mail_${column}_created_idx ON mail (${column}, created_at DESC, id DESC)`);
    }
    await queryRunner.query(`
      CREATE TABLE delivery (
        id uuid PRIMARY KEY,
        mail_id uuid NOT NULL REFERENCES mail (id) ON DELETE CASCADE,
        position int NOT NULL,
        receiver_id text NOT NULL,
        status text NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        email text,
        message_id text NOT NULL,
        sent_at timestamptz,
        error text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (mail_id, receiver_id)
      )`);
    // receiverId filter on the mail list: mails a receiver got.
    await queryRunner.query(`CREATE INDEX delivery_receiver_idx ON delivery (receiver_id, mail_id)`);
    await queryRunner.query(`
      CREATE TABLE recipient (
        id text PRIMARY KEY,
        email text NOT NULL,
        first_name text,
        last_name text,
        locale text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE idempotency_key (
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status_code int,
        response_body jsonb,
        response_headers jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE idempotency_key');
    await queryRunner.query('DROP TABLE recipient');
    await queryRunner.query('DROP TABLE delivery');
    await queryRunner.query('DROP TABLE mail');
  }
}
