import { Injectable } from '@nestjs/common';
import { currentCaller } from '../auth/caller';
import { LinkDto } from '../common/links/link.dto';
import { LinksBuilder } from '../common/links/links.builder';
import { ConversationEntity, ConversationStatus } from './conversation.entity';
import { ConversationDto, ConversationPageDto, MessageDto, MessagePageDto } from './dto/conversation.dto';
import { ListConversationsQueryDto } from './dto/list-conversations.query.dto';
import { MessageEntity, MessageStatus } from './message.entity';
import { ConversationPolicy } from './conversation.policy';
import { ConversationWithLast } from './conversation.repository';

/**
 * Turns conversations and their messages into responses; the only place that adds their links,
 * and only for the actions allowed in the current state to the caller of the request.
 */
@Injectable()
export class ConversationMapper {
  constructor(
    private readonly links: LinksBuilder,
    private readonly policy: ConversationPolicy,
  ) {}

  toDto(conversation: ConversationEntity, lastMessage: MessageEntity | null): ConversationDto {
    return {
      id: conversation.id,
      tripPublicationId: conversation.tripPublicationId,
      tripReference: conversation.tripReference,
      establishmentId: conversation.establishmentId,
      customerId: conversation.customerId,
      assignedAgentId: conversation.assignedAgentId,
      participants: conversation.participants,
      lastMessage: lastMessage ? this.toMessageDto(lastMessage) : null,
      status: conversation.status,
      createdAt: conversation.createdAt.toISOString(),
      updatedAt: conversation.updatedAt.toISOString(),
      links: this.conversationLinks(conversation),
    };
  }

  /** A weak validator: the version names the state of the conversation, not the bytes of one rendering. */
  etag(conversation: ConversationEntity): string {
    return `W/"${conversation.version}"`;
  }

  toMessageDto(message: MessageEntity): MessageDto {
    const path = `/v1/conversations/${message.conversationId}/messages/${message.id}`;
    const links = [
      this.links.link('self', 'GET', path, 'Get this message'),
      this.links.link('conversation', 'GET', `/v1/conversations/${message.conversationId}`, 'Get the conversation'),
    ];
    if (message.status !== MessageStatus.READ)
      links.push(this.links.link('update', 'PATCH', path, 'Move the status forward (DELIVERED, READ)'));
    return {
      id: message.id,
      conversationId: message.conversationId,
      sendingDate: message.sendingDate.toISOString(),
      transmitterId: message.transmitterId,
      receiverId: message.receiverId,
      transmitterType: message.transmitterType,
      content: message.content,
      contentType: message.contentType,
      status: message.status,
      receivedDate: message.receivedDate?.toISOString() ?? null,
      correlationId: message.correlationId,
      links,
    };
  }

  toPage(rows: ConversationWithLast[], total: number, query: ListConversationsQueryDto): ConversationPageDto {
    const { currentPage, sizePage, ...filters } = query;
    const content = rows.map(({ conversation, lastMessage }) => this.toDto(conversation, lastMessage));
    return this.links.page('/v1/conversations', content, total, currentPage, sizePage, filters);
  }

  toMessagePage(
    conversationId: string,
    rows: MessageEntity[],
    total: number,
    currentPage: number,
    sizePage: number,
  ): MessagePageDto {
    const content = rows.map((row) => this.toMessageDto(row));
    return this.links.page(`/v1/conversations/${conversationId}/messages`, content, total, currentPage, sizePage);
  }

  private conversationLinks(conversation: ConversationEntity): LinkDto[] {
    const path = `/v1/conversations/${conversation.id}`;
    const links = [this.links.link('self', 'GET', path, 'Get this conversation')];
    const open = conversation.status !== ConversationStatus.ARCHIVED;
    if (open && this.policy.canManage(currentCaller(), conversation)) {
      links.push(this.links.link('update', 'PUT', path, 'Replace this conversation (send If-Match with its ETag)'));
      links.push(this.links.link('assign-agent', 'PATCH', `${path}/assigned-agent`, 'Assign an agent'));
    }
    links.push(this.links.link('messages', 'GET', `${path}/messages`, 'List the messages, oldest first'));
    if (open) links.push(this.links.link('post-message', 'POST', `${path}/messages`, 'Post a message'));
    return links;
  }
}
