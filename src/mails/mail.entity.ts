import {
  Column,
  CreateDateColumn,
  Entity,
  ForeignKey,
  Index,
  OneToMany,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { MailCategory, ProductType } from '../catalog/mail-category';
import type { VariableValue } from '../catalog/mail-variables';
import { DeliveryEntity } from './delivery.entity';
import { MailStatus } from './mail-status';

/** A mail event as posted, with the status its deliveries add up to. */
@Entity('mail')
// Indexes are written by hand in migrations/ (descending keys, partial and GIN indexes TypeORM cannot
// declare); named here so that a generated migration leaves them alone (test/schema.e2e-spec.ts).
@Index('mail_created_idx', { synchronize: false })
@Index('mail_contact_message_idx', { synchronize: false })
@Index('mail_category_created_idx', { synchronize: false })
@Index('mail_status_created_idx', { synchronize: false })
@Index('mail_publication_id_created_idx', { synchronize: false })
@Index('mail_reservation_id_created_idx', { synchronize: false })
@Index('mail_organization_id_created_idx', { synchronize: false })
@Index('mail_establishment_id_created_idx', { synchronize: false })
@Index('mail_unpurged_created_idx', { synchronize: false })
export class MailEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'text' })
  category: MailCategory;

  @Column({ name: 'receivers_id', type: 'text', array: true })
  receiversId: string[];

  @Column({ name: 'publication_id', type: 'text', nullable: true })
  publicationId: string | null;

  @Column({ name: 'reservation_id', type: 'text', nullable: true })
  reservationId: string | null;

  @Column({ name: 'product_type', type: 'text', nullable: true })
  productType: ProductType | null;

  @Column({ name: 'organization_id', type: 'text', nullable: true })
  organizationId: string | null;

  @Column({ name: 'establishment_id', type: 'text', nullable: true })
  establishmentId: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  variables: Record<string, VariableValue>;

  /** Forced locale; null means each receiver's own. */
  @Column({ type: 'text', nullable: true })
  locale: string | null;

  @Column({ name: 'test_mode', type: 'boolean', default: false })
  testMode: boolean;

  /** Sent even to receivers who unsubscribed from its category (never past the suppression list); contract A3. */
  @Column({ name: 'force_sending', type: 'boolean', default: false })
  forceSending: boolean;

  /** The caller that set forceSending (its API key name, or the admin's sub). */
  @Column({ name: 'forced_by', type: 'text', nullable: true })
  forcedBy: string | null;

  @Column({ type: 'text' })
  status: MailStatus;

  @Column({ name: 'correlation_id', type: 'text' })
  correlationId: string;

  /** When it is to be sent; null: at once. */
  @Column({ name: 'scheduled_at', type: 'timestamptz', nullable: true })
  scheduledAt: Date | null;

  /** When the SMTP server first accepted one of its deliveries. */
  @Column({ name: 'sending_date', type: 'timestamptz', nullable: true })
  sendingDate: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /**
   * Deliveries by outcome, kept by the statements that change them (counters add up whatever the
   * order of concurrent settles); the mail's status is `mail_status_of` these four.
   */
  @Column({ name: 'deliveries_total', type: 'int', default: 0 })
  deliveriesTotal?: number;

  @Column({ name: 'deliveries_sent', type: 'int', default: 0 })
  deliveriesSent?: number;

  @Column({ name: 'deliveries_failed', type: 'int', default: 0 })
  deliveriesFailed?: number;

  @Column({ name: 'deliveries_cancelled', type: 'int', default: 0 })
  deliveriesCancelled?: number;

  /** The contact message a contact mail quotes (CONTACT_* categories); null for every other mail. */
  @Column({ name: 'contact_message_id', type: 'uuid', nullable: true })
  // The table by name: contacts/ builds contact mails, so mails/ does not import contacts/.
  @ForeignKey('contact_message', { name: 'mail_contact_message_id_fkey', onDelete: 'CASCADE' })
  contactMessageId: string | null;

  /** Reply-To of a mail that invites an answer (a contact mail: the other party of the thread). */
  @Column({ name: 'reply_to', type: 'text', nullable: true })
  replyTo: string | null;

  /** When its category's retention ran out and its personal data were removed (variables, addresses, replies); null: intact. */
  @Column({ name: 'purged_at', type: 'timestamptz', nullable: true })
  purgedAt: Date | null;

  @OneToMany(() => DeliveryEntity, (delivery) => delivery.mail)
  deliveries?: DeliveryEntity[];
}

/** A mail and its deliveries, as MailFactory builds them and MailQueries reads them. */
export interface MailWithDeliveries {
  mail: MailEntity;
  deliveries: DeliveryEntity[];
}
