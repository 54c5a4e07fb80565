import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { MessageEntity } from './message.entity';

export enum ConversationStatus {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
  ARCHIVED = 'ARCHIVED',
}

/** A chat between a customer and the agents of an establishment about a trip. */
@Entity('conversation')
// Indexes are written by hand in migrations/ (descending keys, partial and GIN indexes TypeORM cannot
// declare); named here so that a generated migration leaves them alone (test/schema.e2e-spec.ts).
@Index('conversation_updated_idx', { synchronize: false })
@Index('conversation_establishment_id_updated_idx', { synchronize: false })
@Index('conversation_customer_id_updated_idx', { synchronize: false })
@Index('conversation_assigned_agent_id_updated_idx', { synchronize: false })
@Index('conversation_status_updated_idx', { synchronize: false })
@Index('conversation_participants_idx', { synchronize: false })
export class ConversationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'trip_publication_id', type: 'text' })
  tripPublicationId: string;

  @Column({ name: 'trip_reference', type: 'text' })
  tripReference: string;

  @Column({ name: 'establishment_id', type: 'text' })
  establishmentId: string;

  @Column({ name: 'customer_id', type: 'text' })
  customerId: string;

  @Column({ name: 'assigned_agent_id', type: 'text', nullable: true })
  assignedAgentId: string | null;

  /** Always holds the customer and the assigned agent (kept so by the service). */
  @Column({ type: 'text', array: true })
  participants: string[];

  @Column({ type: 'text' })
  status: ConversationStatus;

  @Column({ name: 'last_message_id', type: 'uuid', nullable: true })
  @ForeignKey(() => MessageEntity, { name: 'conversation_last_message_fk', onDelete: 'SET NULL' })
  lastMessageId: string | null;

  /** Incremented on every change of the representation; the ETag. */
  @Column({ type: 'int' })
  version: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  /** Last activity: a message, an update or an assignment. Lists are ordered by it. */
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
