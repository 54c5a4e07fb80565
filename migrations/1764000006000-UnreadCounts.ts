import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Unread counts kept as counters, so an inbox badge reads one row per conversation however many
 * messages are unread: `unread_count` holds, per participant and conversation, the messages
 * addressed to them that are not READ. Statement-level triggers keep it in the transaction of
 * every insert and status change (a read marker that reads 10,000 messages updates its counter
 * once), and the counter rows are taken in one order, so concurrent statements never deadlock.
 */
export class UnreadCounts1764000006000 implements MigrationInterface {
  name = 'UnreadCounts1764000006000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE unread_count (
        participant_id text NOT NULL,
        conversation_id uuid NOT NULL,
        n int NOT NULL,
        PRIMARY KEY (participant_id, conversation_id)
      )`);
    await queryRunner.query(`
      CREATE FUNCTION unread_count_add(deltas jsonb) RETURNS void LANGUAGE sql AS $$
        INSERT INTO unread_count (participant_id, conversation_id, n)
        SELECT d->>'p', (d->>'c')::uuid, (d->>'n')::int FROM jsonb_array_elements(deltas) d
        ORDER BY d->>'p', d->>'c'
        ON CONFLICT (participant_id, conversation_id) DO UPDATE SET n = unread_count.n + EXCLUDED.n
      $$`);
    await queryRunner.query(`
      CREATE FUNCTION unread_count_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM unread_count_add((
          SELECT coalesce(jsonb_agg(jsonb_build_object('p', receiver_id, 'c', conversation_id, 'n', k)), '[]') FROM (
            SELECT receiver_id, conversation_id, count(*) AS k FROM new_rows
            WHERE receiver_id IS NOT NULL AND status <> 'READ' GROUP BY receiver_id, conversation_id
          ) s));
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION unread_count_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM unread_count_add((
          SELECT coalesce(jsonb_agg(jsonb_build_object('p', receiver_id, 'c', conversation_id, 'n', k)), '[]') FROM (
            SELECT n.receiver_id, n.conversation_id,
                   sum((n.status <> 'READ')::int - (o.status <> 'READ')::int) AS k
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.receiver_id IS NOT NULL AND n.status IS DISTINCT FROM o.status
            GROUP BY n.receiver_id, n.conversation_id
          ) s WHERE k <> 0));
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER unread_count_insert AFTER INSERT ON conversation_message REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION unread_count_on_insert()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER unread_count_update AFTER UPDATE ON conversation_message REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION unread_count_on_update()`,
    );
    await queryRunner.query(`
      INSERT INTO unread_count (participant_id, conversation_id, n)
      SELECT receiver_id, conversation_id, count(*) FROM conversation_message
      WHERE receiver_id IS NOT NULL AND status <> 'READ' GROUP BY receiver_id, conversation_id`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER unread_count_update ON conversation_message`);
    await queryRunner.query(`DROP TRIGGER unread_count_insert ON conversation_message`);
    await queryRunner.query(`DROP FUNCTION unread_count_on_update`);
    await queryRunner.query(`DROP FUNCTION unread_count_on_insert`);
    await queryRunner.query(`DROP FUNCTION unread_count_add`);
    await queryRunner.query(`DROP TABLE unread_count`);
  }
}
