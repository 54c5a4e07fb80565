import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Live conversations: read markers, the timeline, and the unread digest's bookkeeping.
 *
 * Unread counts are not stored: a message is unread while it is addressed to someone and not READ
 * (the marker makes it READ in its transaction), and the partial index below holds only those
 * rows, so counting a participant's unread messages reads the unread ones alone, however many
 * messages they have.
 */
export class LiveConversations1764000005000 implements MigrationInterface {
  name = 'LiveConversations1764000005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE read_marker (
        conversation_id uuid NOT NULL REFERENCES conversation (id),
        participant_id text NOT NULL,
        last_read_message_id uuid NOT NULL,
        last_read_sending_date timestamptz NOT NULL,
        last_read_at timestamptz NOT NULL,
        PRIMARY KEY (conversation_id, participant_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX conversation_message_unread_idx ON conversation_message (receiver_id, conversation_id, sending_date) WHERE status <> 'READ' AND receiver_id IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE conversation_timeline (
        id bigserial PRIMARY KEY,
        conversation_id uuid NOT NULL,
        type text NOT NULL,
        actor_id text NULL,
        at timestamptz NOT NULL DEFAULT now(),
        correlation_id text NULL,
        data jsonb NOT NULL DEFAULT '{}'
      )`);
    await queryRunner.query(
      `CREATE INDEX conversation_timeline_conversation_idx ON conversation_timeline (conversation_id, id)`,
    );
    // One row per receiver: the digest mail now scheduled (if any), when the last one went out, and
    // the sending date of the newest message each covers (so no message is mailed twice).
    await queryRunner.query(`
      CREATE TABLE unread_digest (
        receiver_id text PRIMARY KEY,
        mail_id uuid NULL,
        scheduled_at timestamptz NULL,
        scheduled_through timestamptz NULL,
        last_sent_at timestamptz NULL,
        sent_through timestamptz NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE unread_digest`);
    await queryRunner.query(`DROP TABLE conversation_timeline`);
    await queryRunner.query(`DROP INDEX conversation_message_unread_idx`);
    await queryRunner.query(`DROP TABLE read_marker`);
  }
}
