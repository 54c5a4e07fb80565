import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';
import { MailEntity } from './mail.entity';
import { DeliveryErrorCode, StoredDeliveryStatus } from './mail-status';

/**
 * One receiver of one mail: the source of truth for what was sent, and the queue the workers claim
 * from (`due_at`: when it is next due, or when the lease of a SENDING delivery runs out).
 */
@Entity('delivery')
@Unique('delivery_mail_id_receiver_id_key', ['mailId', 'receiverId'])
// Indexes are written by hand in migrations/ (descending keys, partial and GIN indexes TypeORM cannot
// declare); named here so that a generated migration leaves them alone (test/schema.e2e-spec.ts).
@Index('delivery_receiver_idx', { synchronize: false })
@Index('delivery_due_idx', { synchronize: false })
@Index('delivery_message_id_idx', { synchronize: false })
export class DeliveryEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'mail_id', type: 'uuid' })
  mailId: string;

  @ManyToOne(() => MailEntity, (mail) => mail.deliveries, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'mail_id', foreignKeyConstraintName: 'delivery_mail_id_fkey' })
  mail?: MailEntity;

  /** Position in the mail's receiversId, to list deliveries in the order they were given. */
  @Column({ type: 'int' })
  position: number;

  @Column({ name: 'receiver_id', type: 'text' })
  receiverId: string;

  @Column({ type: 'text' })
  status: StoredDeliveryStatus;

  /** Attempts made so far (a claim by a worker is an attempt, whatever its outcome). */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  /** `attempts` when the retry budget last started (0, or the count at a manual retry). */
  @Column({ name: 'attempts_base', type: 'int', default: 0 })
  attemptsBase: number;

  @Column({ name: 'due_at', type: 'timestamptz', default: () => 'now()' })
  dueAt: Date;

  /** When the delivery first became due (its scheduled time or acceptance): the base of the age limit. */
  @Column({ name: 'first_due_at', type: 'timestamptz', default: () => 'now()' })
  firstDueAt: Date;

  /** The address it was sent to, known once the receiver is resolved; shown masked. */
  @Column({ type: 'text', nullable: true })
  email: string | null;

  /** Fixed when the delivery is created, so every attempt carries the same Message-ID. */
  @Column({ name: 'message_id', type: 'text' })
  messageId: string;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode: DeliveryErrorCode | null;

  /** What the error code means for this delivery, in words. */
  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'smtp_response', type: 'text', nullable: true })
  smtpResponse: string | null;

  /**
   * A cancellation reached this delivery during an attempt: the attempt ends CANCELLED unless the
   * relay accepted that copy, and no new attempt starts.
   */
  @Column({ name: 'cancel_requested', type: 'boolean', default: false })
  cancelRequested: boolean;

  /** When its receiver reported this copy as spam (a feedback report came back, contract A2). */
  @Column({ name: 'complained_at', type: 'timestamptz', nullable: true })
  complainedAt: Date | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
