import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook calls are queued by the outbox trigger, from any transaction of any process: a statement
 * trigger on their table wakes the workers of every process (they LISTEN on `queue_webhook_calls`,
 * see src/queue/queues.ts) when the transaction commits. Postgres sends one notification per
 * channel and transaction, and the transactions that write events already notify (`events`), so it
 * costs their commit nothing more. Mail deliveries are nudged by the API after its commit instead.
 */
export class QueueNudges1765000090000 implements MigrationInterface {
  name = 'QueueNudges1765000090000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION webhook_calls_nudge() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_calls) THEN
          PERFORM pg_notify('queue_webhook_calls', '');
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER webhook_calls_nudge AFTER INSERT ON webhook_delivery REFERENCING NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION webhook_calls_nudge()`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER webhook_calls_nudge ON webhook_delivery`);
    await queryRunner.query(`DROP FUNCTION webhook_calls_nudge`);
  }
}
