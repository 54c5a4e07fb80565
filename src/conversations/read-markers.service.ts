import { Injectable } from '@nestjs/common';
import { actingId, currentCaller } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';
import { LinksBuilder } from '../common/links/links.builder';
import { PageQueryDto } from '../common/pagination/page.dto';
import { EventsRepository } from '../events/events.repository';
import { ConversationMapper } from './conversation.mapper';
import { ConversationPolicy } from './conversation.policy';
import { ConversationRepository } from './conversation.repository';
import {
  ReadMarkerDto,
  TimelineEntryType,
  TimelinePageDto,
  UnreadSummaryDto,
  UpdateReadMarkerDto,
} from './dto/live.dto';
import { ReadMarkerRepository, ReadMarkerRow } from './read-marker.repository';
import { TimelineRepository } from './timeline.repository';
import { UnreadDigestScheduler } from './unread-digest.scheduler';

/** Read markers, unread counts and the timeline: what a chat window and an inbox badge need. */
@Injectable()
export class ReadMarkersService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly markers: ReadMarkerRepository,
    private readonly timeline: TimelineRepository,
    private readonly digests: UnreadDigestScheduler,
    private readonly events: EventsRepository,
    private readonly policy: ConversationPolicy,
    private readonly mapper: ConversationMapper,
    private readonly links: LinksBuilder,
  ) {}

  /**
   * Moves a participant's marker forward to a message and marks READ (with receivedDate) every
   * message up to it addressed to them, in one transaction with its timeline entry, its event and
   * the re-planning of their unread digest. An older message leaves the marker where it is (200).
   */
  async updateMarker(conversationId: string, dto: UpdateReadMarkerDto): Promise<ReadMarkerDto> {
    const caller = currentCaller();
    const participantId = actingId(caller, 'participantId', dto.participantId);
    if (participantId === undefined) throw invalid('participantId', 'is required');
    return this.conversations.transaction(async (manager) => {
      if (!(await this.conversations.exists(conversationId, this.policy.scope(caller), manager)))
        throw ApiError.notFound(`Conversation ${conversationId}`);
      const participantIds = await this.conversations.participantsOf(manager, conversationId);
      if (!participantIds.includes(participantId))
        throw invalid('participantId', 'must be a participant of the conversation');
      const message = await this.conversations.findMessageById(manager, dto.lastReadMessageId);
      if (!message || message.conversationId !== conversationId)
        throw ApiError.notFound(`Message ${dto.lastReadMessageId} of this conversation`);
      const now = new Date();
      const { marker, moved, readIds } = await this.markers.advance(
        manager,
        conversationId,
        participantId,
        message.id,
        message.sendingDate,
        now,
      );
      const answer = this.toDto(
        conversationId,
        marker,
        await this.markers.unreadIn(manager, conversationId, participantId),
      );
      if (moved) {
        await this.timeline.append(manager, conversationId, [
          {
            type: TimelineEntryType.READ,
            actorId: participantId,
            at: now,
            data: { lastReadMessageId: message.id, messagesRead: readIds.length },
          },
        ]);
        await this.events.append(manager, [
          { type: 'read-marker.updated', data: { conversationId, ...answer }, conversationId, participantIds },
        ]);
        if (readIds.length) await this.digests.refresh(manager, participantId, now);
      }
      return answer;
    });
  }

  /** Who may follow a conversation's events: whoever may read it (404 otherwise). */
  async assertSeesConversation(conversationId: string): Promise<void> {
    if (!(await this.conversations.exists(conversationId, this.policy.scope(currentCaller()))))
      throw ApiError.notFound(`Conversation ${conversationId}`);
  }

  /** Who may follow a participant's events or counts: that person, services and admins (404 otherwise). */
  assertSeesParticipant(participantId: string): void {
    this.policy.assertSeesParticipant(currentCaller(), participantId);
  }

  /** A participant's unread messages per conversation (only conversations with some), newest activity first. */
  async unread(participantId: string): Promise<UnreadSummaryDto> {
    this.assertSeesParticipant(participantId);
    const rows = await this.markers.unreadConversations(participantId);
    const lastIds = rows.flatMap((row) => (row.last_message_id ? [row.last_message_id] : []));
    const messages = new Map((await this.conversations.findMessagesByIds(lastIds)).map((m) => [m.id, m]));
    const conversations = rows.map((row) => {
      const last = row.last_message_id ? messages.get(row.last_message_id) : undefined;
      return {
        conversationId: row.conversation_id,
        unreadCount: row.unread,
        lastMessage: last ? this.mapper.toMessageDto(last) : null,
      };
    });
    const path = `/v1/participants/${encodeURIComponent(participantId)}`;
    return {
      totalUnread: conversations.reduce((sum, c) => sum + c.unreadCount, 0),
      conversations,
      links: [
        this.links.link('self', 'GET', `${path}/unread`, 'Unread counts of this participant'),
        this.links.link(
          'events',
          'GET',
          `${path}/events`,
          'Live events of every conversation of this participant',
          'text/event-stream',
        ),
      ],
    };
  }

  /** Everything that happened to a conversation, oldest first. */
  async timelinePage(conversationId: string, query: PageQueryDto): Promise<TimelinePageDto> {
    await this.assertSeesConversation(conversationId);
    const { rows, total } = await this.timeline.findPage(conversationId, query.currentPage, query.sizePage);
    const content = rows.map((row) => ({
      id: row.id,
      type: row.type,
      actorId: row.actor_id,
      at: row.at.toISOString(),
      correlationId: row.correlation_id,
      data: row.data,
    }));
    return this.links.page(
      `/v1/conversations/${conversationId}/timeline`,
      content,
      total,
      query.currentPage,
      query.sizePage,
    );
  }

  private toDto(conversationId: string, marker: ReadMarkerRow, unreadCount: number): ReadMarkerDto {
    const path = `/v1/conversations/${conversationId}`;
    return {
      participantId: marker.participant_id,
      lastReadMessageId: marker.last_read_message_id,
      lastReadAt: marker.last_read_at.toISOString(),
      unreadCount,
      links: [
        this.links.link('conversation', 'GET', path, 'Get the conversation'),
        this.links.link('update', 'PUT', `${path}/read-marker`, 'Move the marker forward'),
      ],
    };
  }
}

function invalid(field: string, issue: string): ApiError {
  return ApiError.validation([{ field, location: 'body', issue }]);
}
