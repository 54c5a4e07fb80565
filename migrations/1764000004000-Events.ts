import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox: one `event` row per change others must learn about, written in the transaction of
 * the change (see src/events/events.repository.ts). Its id is the Server-Sent Events id and the
 * base of the webhooks' `webhook-id`. A statement trigger `pg_notify`s the ids of every insert on
 * channel `events`, however the insert was written (a CTE of a bigger statement included); NOTIFY
 * is delivered on commit only, so nothing is announced for a change that rolled back.
 */
export class Events1764000004000 implements MigrationInterface {
  name = 'Events1764000004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE event (
        id bigserial PRIMARY KEY,
        type text NOT NULL,
        data jsonb NOT NULL,
        correlation_id text NULL,
        conversation_id uuid NULL,
        participant_ids text[] NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Replay by id is the primary key; these serve the per-stream replays and the retention.
    await queryRunner.query(`CREATE INDEX event_created_at_idx ON event (created_at)`);
    await queryRunner.query(
      `CREATE INDEX event_conversation_idx ON event (conversation_id, id) WHERE conversation_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX event_participants_idx ON event USING gin (participant_ids) WHERE participant_ids IS NOT NULL`,
    );
    // A NOTIFY payload holds at most 8000 bytes: ids go in chunks of 200 (at most 20 digits each).
    await queryRunner.query(`
      CREATE FUNCTION event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        ids bigint[];
      BEGIN
        SELECT array_agg(id ORDER BY id) INTO ids FROM new_events;
        FOR i IN 1 .. coalesce(array_length(ids, 1), 0) BY 200 LOOP
          PERFORM pg_notify('events', array_to_string(ids[i:i + 199], ','));
        END LOOP;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER event_notify AFTER INSERT ON event REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION event_notify()`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER event_notify ON event`);
    await queryRunner.query(`DROP FUNCTION event_notify`);
    await queryRunner.query(`DROP TABLE event`);
  }
}
