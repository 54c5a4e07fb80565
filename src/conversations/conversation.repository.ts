import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, SelectQueryBuilder } from 'typeorm';
import { ConversationEntity } from './conversation.entity';
import { ConversationScope } from './conversation.policy';
import { ListConversationsQueryDto } from './dto/list-conversations.query.dto';
import { MessageEntity } from './message.entity';

export interface ConversationWithLast {
  conversation: ConversationEntity;
  lastMessage: MessageEntity | null;
}

/** Named queries of conversations and their messages, so services never assemble SQL. */
@Injectable()
export class ConversationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** A new conversation and its first message; the message needs the conversation, and then becomes its last one. */
  async insertConversation(
    manager: EntityManager,
    conversation: ConversationEntity,
    firstMessage: MessageEntity | null,
  ): Promise<void> {
    await manager.insert(ConversationEntity, { ...conversation, lastMessageId: null });
    if (firstMessage) {
      await manager.insert(MessageEntity, firstMessage);
      await manager.update(ConversationEntity, { id: conversation.id }, { lastMessageId: firstMessage.id });
    }
  }

  /**
   * The conversation, locked until the transaction ends: every change of one conversation (an
   * update, an assignment, a new message) runs one after the other and sees the previous one.
   */
  lockById(manager: EntityManager, id: string, scope: ConversationScope): Promise<ConversationEntity | null> {
    return inScope(manager.getRepository(ConversationEntity).createQueryBuilder('c').where('c.id = :id', { id }), scope)
      .setLock('pessimistic_write')
      .getOne();
  }

  /** Who takes part in the conversation (read without a lock: it routes an event, nothing more). */
  async participantsOf(manager: EntityManager, id: string): Promise<string[]> {
    const rows: Array<{ participants: string[] }> = await manager.query(
      'SELECT participants FROM conversation WHERE id = $1',
      [id],
    );
    return rows[0]?.participants ?? [];
  }

  /** Writes back every column a change may touch (after lockById in the same transaction). */
  async saveConversation(manager: EntityManager, conversation: ConversationEntity): Promise<void> {
    await manager.update(
      ConversationEntity,
      { id: conversation.id },
      {
        tripPublicationId: conversation.tripPublicationId,
        tripReference: conversation.tripReference,
        establishmentId: conversation.establishmentId,
        customerId: conversation.customerId,
        assignedAgentId: conversation.assignedAgentId,
        participants: conversation.participants,
        status: conversation.status,
        lastMessageId: conversation.lastMessageId,
        version: conversation.version,
        updatedAt: conversation.updatedAt,
      },
    );
  }

  async insertMessage(manager: EntityManager, message: MessageEntity): Promise<void> {
    await manager.insert(MessageEntity, message);
  }

  findMessageById(manager: EntityManager, id: string): Promise<MessageEntity | null> {
    return manager.getRepository(MessageEntity).findOneBy({ id });
  }

  findMessagesByIds(ids: string[]): Promise<MessageEntity[]> {
    return ids.length ? this.dataSource.getRepository(MessageEntity).findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  async findWithLastMessage(id: string, scope: ConversationScope): Promise<ConversationWithLast | null> {
    const conversation = await inScope(
      this.dataSource.getRepository(ConversationEntity).createQueryBuilder('c').where('c.id = :id', { id }),
      scope,
    ).getOne();
    if (!conversation) return null;
    const lastMessage = conversation.lastMessageId
      ? await this.dataSource.getRepository(MessageEntity).findOneBy({ id: conversation.lastMessageId })
      : null;
    return { conversation, lastMessage };
  }

  /** Whether the conversation exists within the scope (in `manager`'s transaction when given). */
  async exists(
    id: string,
    scope: ConversationScope,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<boolean> {
    return inScope(
      manager.getRepository(ConversationEntity).createQueryBuilder('c').where('c.id = :id', { id }),
      scope,
    ).getExists();
  }

  /** A page of conversations, most recent activity first, with their last messages in one more query. */
  async findPage(
    query: ListConversationsQueryDto,
    scope: ConversationScope,
  ): Promise<{ rows: ConversationWithLast[]; total: number }> {
    const qb = inScope(this.dataSource.getRepository(ConversationEntity).createQueryBuilder('c'), scope);
    for (const field of ['establishmentId', 'customerId', 'assignedAgentId', 'status'] as const) {
      if (query[field] !== undefined) qb.andWhere(`c.${field} = :${field}`, { [field]: query[field] });
    }
    if (query.participantId !== undefined)
      qb.andWhere('c.participants @> ARRAY[:participantId]::text[]', { participantId: query.participantId });
    const [conversations, total] = await qb
      .orderBy('c.updatedAt', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .skip((query.currentPage - 1) * query.sizePage)
      .take(query.sizePage)
      .getManyAndCount();
    const lastIds = conversations.flatMap((c) => (c.lastMessageId ? [c.lastMessageId] : []));
    const messages = lastIds.length
      ? await this.dataSource.getRepository(MessageEntity).findBy({ id: In(lastIds) })
      : [];
    return {
      rows: conversations.map((conversation) => ({
        conversation,
        lastMessage: messages.find((m) => m.id === conversation.lastMessageId) ?? null,
      })),
      total,
    };
  }

  /** A page of a conversation's messages, oldest first (served by the (conversation_id, sending_date, id) index). */
  async findMessagePage(
    conversationId: string,
    currentPage: number,
    sizePage: number,
  ): Promise<{ rows: MessageEntity[]; total: number }> {
    const [rows, total] = await this.dataSource.getRepository(MessageEntity).findAndCount({
      where: { conversationId },
      order: { sendingDate: 'ASC', id: 'ASC' },
      skip: (currentPage - 1) * sizePage,
      take: sizePage,
    });
    return { rows, total };
  }

  /** A message of this conversation; a message of another conversation is not found. */
  findMessage(conversationId: string, messageId: string): Promise<MessageEntity | null> {
    return this.dataSource.getRepository(MessageEntity).findOneBy({ id: messageId, conversationId });
  }

  /** Same, locked until the transaction ends, so two status changes of one message never cross. */
  lockMessage(manager: EntityManager, conversationId: string, messageId: string): Promise<MessageEntity | null> {
    return manager
      .getRepository(MessageEntity)
      .findOne({ where: { id: messageId, conversationId }, lock: { mode: 'pessimistic_write' } });
  }

  async saveMessageStatus(manager: EntityManager, message: MessageEntity): Promise<void> {
    await manager.update(
      MessageEntity,
      { id: message.id },
      { status: message.status, receivedDate: message.receivedDate },
    );
  }

  /** The conversation shows its last message: when that one changes, so does the conversation's ETag. */
  async bumpVersionIfLast(manager: EntityManager, conversationId: string, messageId: string): Promise<void> {
    await manager.query('UPDATE conversation SET version = version + 1 WHERE id = $1 AND last_message_id = $2', [
      conversationId,
      messageId,
    ]);
  }
}

/**
 * Narrows a query of conversations (alias `c`) to a caller's scope: a customer's own (served by the
 * customer_id index and the GIN index on participants), an agent's establishments.
 */
function inScope(
  qb: SelectQueryBuilder<ConversationEntity>,
  scope: ConversationScope,
): SelectQueryBuilder<ConversationEntity> {
  if (scope.all) return qb;
  const rules: string[] = [];
  if (scope.personId !== null)
    rules.push('(c.customer_id = :scopePerson OR c.participants @> ARRAY[:scopePerson]::text[])');
  if (scope.establishments.length) rules.push('c.establishment_id IN (:...scopeEstablishments)');
  return qb.andWhere(rules.length ? `(${rules.join(' OR ')})` : 'FALSE', {
    scopePerson: scope.personId,
    scopeEstablishments: scope.establishments,
  });
}
