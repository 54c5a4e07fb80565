import { MigrationInterface, QueryRunner } from 'typeorm';

/** Contact-us threads with their notification mails, and customer/agent conversations with their messages. */
export class ContactsAndConversations1763900001000 implements MigrationInterface {
  name = 'ContactsAndConversations1763900001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE contact_message (
        id uuid PRIMARY KEY,
        conversation_id uuid NOT NULL,
        sending_date timestamptz NOT NULL,
        receiver_id text,
        transmitter_id text,
        name text NOT NULL,
        mail text NOT NULL,
        object text NOT NULL,
        message text NOT NULL,
        locale text NOT NULL,
        correlation_id text NOT NULL
      )`);
    // A thread is read oldest first: a range scan of this index, whatever the page.
    await queryRunner.query(
      `CREATE INDEX contact_message_thread_idx ON contact_message (conversation_id, sending_date, id)`,
    );
    await queryRunner.query(`
      CREATE TABLE contact_notification (
        id uuid PRIMARY KEY,
        contact_message_id uuid NOT NULL REFERENCES contact_message (id) ON DELETE CASCADE,
        kind text NOT NULL,
        to_address text NOT NULL,
        reply_to text,
        first_name text,
        locale text NOT NULL,
        status text NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        message_id text NOT NULL,
        error text,
        sent_at timestamptz,
        correlation_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX contact_notification_message_idx ON contact_notification (contact_message_id)`,
    );

    await queryRunner.query(`
      CREATE TABLE conversation (
        id uuid PRIMARY KEY,
        trip_publication_id text NOT NULL,
        trip_reference text NOT NULL,
        establishment_id text NOT NULL,
        customer_id text NOT NULL,
        assigned_agent_id text,
        participants text[] NOT NULL,
        status text NOT NULL,
        last_message_id uuid,
        version int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The list is most recent activity first; each filter gets an index ending with the sort key,
    // so a filtered page is an index range scan rather than a sort of every match.
    await queryRunner.query(`CREATE INDEX conversation_updated_idx ON conversation (updated_at DESC, id DESC)`);
    for (const column of ['establishment_id', 'customer_id', 'assigned_agent_id', 'status']) {
      await queryRunner.query(
        `CREATE INDEX conversation_${column}_updated_idx ON conversation (${column}, updated_at DESC, id DESC)`,
      );
    }
    await queryRunner.query(`
      CREATE TABLE conversation_message (
        id uuid PRIMARY KEY,
        conversation_id uuid NOT NULL REFERENCES conversation (id) ON DELETE CASCADE,
        sending_date timestamptz NOT NULL,
        transmitter_id text NOT NULL,
        receiver_id text,
        transmitter_type text NOT NULL,
        content text NOT NULL,
        content_type text NOT NULL,
        status text NOT NULL,
        received_date timestamptz,
        correlation_id text NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX conversation_message_conversation_idx ON conversation_message (conversation_id, sending_date, id)`,
    );
    await queryRunner.query(`
      ALTER TABLE conversation ADD CONSTRAINT conversation_last_message_fk
        FOREIGN KEY (last_message_id) REFERENCES conversation_message (id) ON DELETE SET NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE conversation DROP CONSTRAINT conversation_last_message_fk');
    await queryRunner.query('DROP TABLE conversation_message');
    await queryRunner.query('DROP TABLE conversation');
    await queryRunner.query('DROP TABLE contact_notification');
    await queryRunner.query('DROP TABLE contact_message');
  }
}
