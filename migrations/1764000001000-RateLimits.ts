import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The counters of the rate limits, shared by every API instance (rate-limiter-flexible's Postgres
 * store: this is the table it would create, created here so it is reviewed and never made at run
 * time), and the index the conversation access scope needs (a customer sees the conversations that
 * list them as a participant).
 */
export class RateLimits1764000001000 implements MigrationInterface {
  name = 'RateLimits1764000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE rate_limit (
        key varchar(255) PRIMARY KEY,
        points integer NOT NULL DEFAULT 0,
        expire bigint
      )`);
    // Expired counters are deleted every few minutes.
    await queryRunner.query(`CREATE INDEX rate_limit_expire_idx ON rate_limit (expire)`);
    await queryRunner.query(`CREATE INDEX conversation_participants_idx ON conversation USING gin (participants)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX conversation_participants_idx');
    await queryRunner.query('DROP TABLE rate_limit');
  }
}
