import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A cancellation that reaches a delivery in the middle of an attempt (SENDING) is recorded on it:
 * the attempt then ends CANCELLED unless the relay accepted that very copy, and no new attempt starts.
 */
export class CancelInFlight1765000001000 implements MigrationInterface {
  name = 'CancelInFlight1765000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE delivery ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE delivery DROP COLUMN cancel_requested`);
  }
}
