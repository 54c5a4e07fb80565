import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { ConversationEntity } from './conversation.entity';

export enum TransmitterType {
  CUSTOMER = 'CUSTOMER',
  AGENT = 'AGENT',
  SYSTEM = 'SYSTEM',
}

export enum ContentType {
  TEXT = 'TEXT',
  HTML = 'HTML',
  IMAGE_URL = 'IMAGE_URL',
  FILE_URL = 'FILE_URL',
}

/** Only moves forward, in this order. */
export enum MessageStatus {
  SENT = 'SENT',
  DELIVERED = 'DELIVERED',
  READ = 'READ',
}

export const MESSAGE_STATUS_ORDER: MessageStatus[] = [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ];

/** A message of a conversation. */
@Entity('conversation_message')
// Indexes are written by hand in migrations/ (descending keys, partial and GIN indexes TypeORM cannot
// declare); named here so that a generated migration leaves them alone (test/schema.e2e-spec.ts).
@Index('conversation_message_conversation_idx', { synchronize: false })
@Index('conversation_message_unread_idx', { synchronize: false })
export class MessageEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  @ForeignKey(() => ConversationEntity, { name: 'conversation_message_conversation_id_fkey', onDelete: 'CASCADE' })
  conversationId: string;

  /** Strictly increasing within a conversation, so this order is the order of writing. */
  @Column({ name: 'sending_date', type: 'timestamptz' })
  sendingDate: Date;

  @Column({ name: 'transmitter_id', type: 'text' })
  transmitterId: string;

  @Column({ name: 'receiver_id', type: 'text', nullable: true })
  receiverId: string | null;

  @Column({ name: 'transmitter_type', type: 'text' })
  transmitterType: TransmitterType;

  @Column({ type: 'text' })
  content: string;

  @Column({ name: 'content_type', type: 'text' })
  contentType: ContentType;

  @Column({ type: 'text' })
  status: MessageStatus;

  /** When it was first DELIVERED (or READ, when it skipped DELIVERED). */
  @Column({ name: 'received_date', type: 'timestamptz', nullable: true })
  receivedDate: Date | null;

  @Column({ name: 'correlation_id', type: 'text' })
  correlationId: string;
}
