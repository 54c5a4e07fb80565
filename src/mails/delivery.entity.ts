import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { MailEntity } from './mail.entity';
import { DeliveryStatus } from './mail-status';

/** One receiver of one mail: the source of truth for what was sent, not the queue job. */
@Entity('delivery')
export class DeliveryEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'mail_id', type: 'uuid' })
  mailId: string;

  @ManyToOne(() => MailEntity, (mail) => mail.deliveries, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'mail_id' })
  mail?: MailEntity;

  /** Position in the mail's receiversId, to list deliveries in the order they were given. */
  @Column({ type: 'int' })
  position: number;

  @Column({ name: 'receiver_id', type: 'text' })
  receiverId: string;

  @Column({ type: 'text' })
  status: DeliveryStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  /** The address it was sent to, known once the receiver is resolved; shown masked. */
  @Column({ type: 'text', nullable: true })
  email: string | null;

  /** Fixed when the delivery is created, so every attempt carries the same Message-ID. */
  @Column({ name: 'message_id', type: 'text' })
  messageId: string;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
