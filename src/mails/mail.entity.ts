import { Column, CreateDateColumn, Entity, OneToMany, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { MailCategory, ProductType } from '../catalog/mail-category';
import type { VariableValue } from '../catalog/mail-variables';
import { DeliveryEntity } from './delivery.entity';
import { MailStatus } from './mail-status';

/** A mail event as posted, with the status its deliveries add up to. */
@Entity('mail')
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

  @OneToMany(() => DeliveryEntity, (delivery) => delivery.mail)
  deliveries?: DeliveryEntity[];
}
