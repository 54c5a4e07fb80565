import { MigrationInterface, QueryRunner } from 'typeorm';

/** Finished webhook deliveries (and their attempt log) are deleted after 30 days: this index finds them. */
export class WebhookLogRetention1764000007000 implements MigrationInterface {
  name = 'WebhookLogRetention1764000007000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX webhook_delivery_finished_idx ON webhook_delivery (event_at) WHERE status IN ('SUCCEEDED', 'FAILED')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX webhook_delivery_finished_idx`);
  }
}
