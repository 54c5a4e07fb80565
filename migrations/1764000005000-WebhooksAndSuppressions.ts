import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks: endpoints, one delivery per (event, subscribed endpoint), and the log of every attempt.
 * Deliveries are created by a statement trigger on `event`, so whatever writes an event (a service
 * through EventsRepository, or a CTE of the mail settle statement) queues its webhooks in the same
 * transaction, at no extra round trip. A delivery copies what it sends (type, data, correlation id,
 * time): it outlives the event's 24 h retention for the 3 days of retries.
 *
 * Suppressions: addresses no mail goes to any more (hard bounces, manual entries), keyed by the
 * lower-cased address.
 */
export class WebhooksAndSuppressions1764000005000 implements MigrationInterface {
  name = 'WebhooksAndSuppressions1764000005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_endpoint (
        id uuid PRIMARY KEY,
        url text NOT NULL,
        events text[] NOT NULL,
        description text NULL,
        enabled boolean NOT NULL DEFAULT true,
        secret text NOT NULL,
        failing_since timestamptz NULL,
        disabled_reason text NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE webhook_delivery (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
        event_id bigint NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        correlation_id text NULL,
        event_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'PENDING',
        attempts int NOT NULL DEFAULT 0,
        due_at timestamptz NOT NULL DEFAULT now(),
        retry_from timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX webhook_delivery_due_idx ON webhook_delivery (due_at) WHERE status IN ('PENDING', 'SENDING')`,
    );
    await queryRunner.query(`CREATE INDEX webhook_delivery_endpoint_idx ON webhook_delivery (endpoint_id)`);
    await queryRunner.query(`
      CREATE TABLE webhook_attempt (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        delivery_id uuid NOT NULL REFERENCES webhook_delivery (id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL,
        attempt int NOT NULL,
        status text NOT NULL,
        response_status int NULL,
        duration_ms int NOT NULL,
        response_excerpt text NULL,
        attempted_at timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX webhook_attempt_log_idx ON webhook_attempt (endpoint_id, attempted_at DESC, id DESC)`,
    );
    await queryRunner.query(`CREATE INDEX webhook_attempt_delivery_idx ON webhook_attempt (delivery_id)`);
    await queryRunner.query(`
      CREATE FUNCTION webhook_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO webhook_delivery (endpoint_id, event_id, type, data, correlation_id, event_at)
        SELECT w.id, e.id, e.type, e.data, e.correlation_id, e.created_at
        FROM new_events e JOIN webhook_endpoint w ON w.enabled AND e.type = ANY (w.events)
        ORDER BY e.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER event_webhook_fan_out AFTER INSERT ON event REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION webhook_fan_out()`,
    );

    await queryRunner.query(`
      CREATE TABLE suppression (
        email text PRIMARY KEY,
        reason text NOT NULL,
        note text NULL,
        last_bounce text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX suppression_list_idx ON suppression (created_at DESC, email)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE suppression`);
    await queryRunner.query(`DROP TRIGGER event_webhook_fan_out ON event`);
    await queryRunner.query(`DROP FUNCTION webhook_fan_out`);
    await queryRunner.query(`DROP TABLE webhook_attempt`);
    await queryRunner.query(`DROP TABLE webhook_delivery`);
    await queryRunner.query(`DROP TABLE webhook_endpoint`);
  }
}
