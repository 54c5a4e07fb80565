import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { ContactMailKind } from '../catalog/mail-copy';
import { ContactMessageEntity } from './contact-message.entity';

export enum NotificationStatus {
  PENDING = 'PENDING',
  SENT = 'SENT',
  FAILED = 'FAILED',
}

/** One mail a contact message causes (forward, acknowledgement, reply): the source of truth of what was sent. */
@Entity('contact_notification')
// Indexes are written by hand in migrations/ (descending keys, partial and GIN indexes TypeORM cannot
// declare); named here so that a generated migration leaves them alone (test/schema.e2e-spec.ts).
@Index('contact_notification_message_idx', { synchronize: false })
export class ContactNotificationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'contact_message_id', type: 'uuid' })
  contactMessageId: string;

  @ManyToOne(() => ContactMessageEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'contact_message_id', foreignKeyConstraintName: 'contact_notification_contact_message_id_fkey' })
  contactMessage?: ContactMessageEntity;

  @Column({ type: 'text' })
  kind: ContactMailKind;

  @Column({ name: 'to_address', type: 'text' })
  toAddress: string;

  @Column({ name: 'reply_to', type: 'text', nullable: true })
  replyTo: string | null;

  /** How the receiver is greeted (the name they gave in the thread); null: anonymous greeting. */
  @Column({ name: 'first_name', type: 'text', nullable: true })
  firstName: string | null;

  @Column({ type: 'text' })
  locale: string;

  @Column({ type: 'text' })
  status: NotificationStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  /** Fixed when the notification is created, so every attempt carries the same Message-ID. */
  @Column({ name: 'message_id', type: 'text' })
  messageId: string;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ name: 'correlation_id', type: 'text' })
  correlationId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
