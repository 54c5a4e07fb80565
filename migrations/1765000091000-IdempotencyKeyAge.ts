import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The maintenance job deletes idempotency keys past their 24 hours, oldest first, in bounded
 * batches (src/queue/sql/delete-old-idempotency-keys.ts): without an index on their age each batch
 * reads the whole table, whose rows hold whole answers.
 */
export class IdempotencyKeyAge1765000091000 implements MigrationInterface {
  name = 'IdempotencyKeyAge1765000091000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX idempotency_key_created_idx ON idempotency_key (created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX idempotency_key_created_idx`);
  }
}
