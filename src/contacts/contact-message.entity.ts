import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One message of a contact-us thread; the thread's id is the id of its first message. */
@Entity('contact_message')
// Indexes are written by hand in migrations/ (descending keys, partial and GIN indexes TypeORM cannot
// declare); named here so that a generated migration leaves them alone (test/schema.e2e-spec.ts).
@Index('contact_message_thread_idx', { synchronize: false })
export class ContactMessageEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  /** The thread: the id of its first message (equal to `id` on that message). */
  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @Column({ name: 'sending_date', type: 'timestamptz' })
  sendingDate: Date;

  @Column({ name: 'receiver_id', type: 'text', nullable: true })
  receiverId: string | null;

  @Column({ name: 'transmitter_id', type: 'text', nullable: true })
  transmitterId: string | null;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  mail: string;

  @Column({ type: 'text' })
  object: string;

  @Column({ type: 'text' })
  message: string;

  /** Language of the mails sent to the writer of this message. */
  @Column({ type: 'text' })
  locale: string;

  @Column({ name: 'correlation_id', type: 'text' })
  correlationId: string;
}
