import { HttpStatus, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { actingId, Caller, currentCaller, UNCHECKED_SERVICE } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';
import { ApiValidationPipe } from '../common/errors/validation.pipe';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { EventsRepository, NewEvent } from '../events/events.repository';
import { TimelineEntryType } from './dto/live.dto';
import { ReadMarkerRepository } from './read-marker.repository';
import { NewTimelineEntry, TimelineRepository } from './timeline.repository';
import { UnreadDigestScheduler } from './unread-digest.scheduler';
import { ConversationEntity, ConversationStatus } from './conversation.entity';
import { ConversationMapper } from './conversation.mapper';
import { ConversationPolicy, ConversationScope } from './conversation.policy';
import { ConversationRepository } from './conversation.repository';
import { AssignAgentDto } from './dto/assign-agent.dto';
import { ConversationDto, ConversationPageDto, MessageDto, MessagePageDto } from './dto/conversation.dto';
import { CreateConversationDto } from './dto/create-conversation.dto';
import { CreateMessageDto, MessageFieldsDto } from './dto/create-message.dto';
import { ListConversationsQueryDto } from './dto/list-conversations.query.dto';
import { ListMessagesQueryDto } from './dto/list-messages.query.dto';
import { ReplaceConversationDto } from './dto/replace-conversation.dto';
import { UpdateMessageStatusDto } from './dto/update-message-status.dto';
import { ContentType, MESSAGE_STATUS_ORDER, MessageEntity, MessageStatus, TransmitterType } from './message.entity';

/** A conversation as answered, with the ETag of the state it shows. */
export interface TaggedConversation {
  conversation: ConversationDto;
  etag: string;
}

@Injectable()
export class ConversationsService {
  private readonly validator = new ApiValidationPipe();

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly mapper: ConversationMapper,
    private readonly policy: ConversationPolicy,
    private readonly cls: ClsService,
    private readonly idempotency: IdempotencyService,
    private readonly events: EventsRepository,
    private readonly timeline: TimelineRepository,
    private readonly digests: UnreadDigestScheduler,
    private readonly markers: ReadMarkerRepository,
  ) {}

  /** A new conversation; a `lastMessage` in the body is stored as its first message. */
  async create(dto: CreateConversationDto): Promise<TaggedConversation> {
    const caller = currentCaller();
    this.policy.assertCanCreate(caller, dto);
    const now = new Date();
    const assignedAgentId = dto.assignedAgentId ?? null;
    const conversation: ConversationEntity = Object.assign(new ConversationEntity(), {
      id: randomUUID(),
      tripPublicationId: dto.tripPublicationId,
      tripReference: dto.tripReference,
      establishmentId: dto.establishmentId,
      customerId: dto.customerId,
      assignedAgentId,
      participants: withKeptParticipants(dto.participants ?? [], dto.customerId, assignedAgentId),
      status: dto.status ?? ConversationStatus.OPEN,
      lastMessageId: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    let first: MessageEntity | null = null;
    if (dto.lastMessage) {
      const transmitterId =
        actingId(caller, 'lastMessage.transmitterId', dto.lastMessage.transmitterId) ?? dto.customerId;
      first = this.newMessage(caller, conversation, dto.lastMessage, transmitterId, now, 'lastMessage.');
      conversation.lastMessageId = first.id;
    }
    return this.conversations.transaction(async (manager) => {
      await this.conversations.insertConversation(manager, conversation, first);
      const answer = this.tagged(conversation, first);
      const created = [conversationEvent('conversation.created', conversation, answer.conversation)];
      if (first) created.push(conversationEvent('message.created', conversation, this.mapper.toMessageDto(first)));
      await this.events.append(manager, created);
      const entries: NewTimelineEntry[] = [
        {
          type: TimelineEntryType.CREATED,
          actorId: caller.id,
          at: now,
          data: { status: conversation.status, customerId: conversation.customerId, assignedAgentId },
        },
      ];
      if (first) entries.push(postedEntry(first));
      await this.timeline.append(manager, conversation.id, entries);
      if (first?.receiverId) await this.digests.refresh(manager, first.receiverId);
      await this.idempotency.storeWithin(manager, HttpStatus.CREATED, answer.conversation, { etag: answer.etag });
      return answer;
    });
  }

  /** The conversations the caller may see, narrowed by the query's filters. */
  async list(query: ListConversationsQueryDto): Promise<ConversationPageDto> {
    const caller = currentCaller();
    // The unread counts are the participant's own: a person asks for theirs only (403 otherwise).
    if (query.participantId !== undefined) this.policy.assertSeesParticipant(caller, query.participantId);
    const { rows, total } = await this.conversations.findPage(query, this.policy.scope(caller));
    const page = this.mapper.toPage(rows, total, query);
    if (query.participantId !== undefined) {
      const counts = await this.markers.unreadCounts(
        query.participantId,
        rows.map((row) => row.conversation.id),
      );
      for (const conversation of page.content) conversation.unreadCount = counts.get(conversation.id) ?? 0;
    }
    return page;
  }

  async findOne(id: string): Promise<TaggedConversation> {
    const found = await this.conversations.findWithLastMessage(id, this.scope());
    if (!found) throw notFound(id);
    return this.tagged(found.conversation, found.lastMessage);
  }

  /**
   * Replaces the writable fields. `If-Match` is compared with the version read under the row
   * lock, so two clients holding the same ETag cannot both succeed. A PUT that changes nothing
   * answers the current state (even when archived), so retrying a PUT stays harmless.
   */
  async replace(id: string, dto: ReplaceConversationDto, ifMatch: string | undefined): Promise<TaggedConversation> {
    const caller = currentCaller();
    return this.conversations.transaction(async (manager) => {
      const conversation = await this.conversations.lockById(manager, id, this.policy.scope(caller));
      if (!conversation) throw notFound(id);
      this.policy.assertCanManage(caller, conversation, dto.establishmentId);
      if (ifMatch !== undefined && !ifMatchAccepts(ifMatch, this.mapper.etag(conversation))) {
        throw ApiError.preconditionFailed(
          `The conversation has changed: its ETag is now ${this.mapper.etag(conversation)}.`,
        );
      }
      const assignedAgentId = dto.assignedAgentId ?? null;
      const next = {
        tripPublicationId: dto.tripPublicationId,
        tripReference: dto.tripReference,
        establishmentId: dto.establishmentId,
        customerId: dto.customerId,
        assignedAgentId,
        participants: withKeptParticipants(dto.participants ?? [], dto.customerId, assignedAgentId),
        status: dto.status ?? conversation.status,
      };
      if (sameState(conversation, next))
        return this.tagged(conversation, await this.lastMessageOf(manager, conversation));
      assertNotArchived(conversation);
      const entries: NewTimelineEntry[] = [];
      if (next.status !== conversation.status)
        entries.push({
          type: TimelineEntryType.STATUS_CHANGED,
          actorId: caller.id,
          data: { from: conversation.status, to: next.status },
        });
      if (next.assignedAgentId !== conversation.assignedAgentId)
        entries.push({
          type: TimelineEntryType.ASSIGNED,
          actorId: caller.id,
          data: { from: conversation.assignedAgentId, to: next.assignedAgentId },
        });
      await this.timeline.append(manager, conversation.id, entries);
      Object.assign(conversation, next);
      await this.touch(manager, conversation);
      return this.updated(manager, conversation);
    });
  }

  /** The agent now in charge joins the participants; earlier agents stay in them. */
  async assignAgent(id: string, dto: AssignAgentDto): Promise<TaggedConversation> {
    const caller = currentCaller();
    return this.conversations.transaction(async (manager) => {
      const conversation = await this.conversations.lockById(manager, id, this.policy.scope(caller));
      if (!conversation) throw notFound(id);
      this.policy.assertCanManage(caller, conversation);
      if (conversation.assignedAgentId !== dto.assignedAgentId) {
        assertNotArchived(conversation);
        await this.timeline.append(manager, conversation.id, [
          {
            type: TimelineEntryType.ASSIGNED,
            actorId: caller.id,
            data: { from: conversation.assignedAgentId, to: dto.assignedAgentId },
          },
        ]);
        conversation.assignedAgentId = dto.assignedAgentId;
        // Appended, so the order in which people joined stays readable.
        conversation.participants = [
          ...new Set([...conversation.participants, conversation.customerId, dto.assignedAgentId]),
        ];
        await this.touch(manager, conversation);
        return this.updated(manager, conversation);
      }
      return this.tagged(conversation, await this.lastMessageOf(manager, conversation));
    });
  }

  async listMessages(id: string, query: ListMessagesQueryDto): Promise<MessagePageDto> {
    if (!(await this.conversations.exists(id, this.scope()))) throw notFound(id);
    const currentPage = Math.max(query.currentPage, 1);
    const { rows, total } = await this.conversations.findMessagePage(id, currentPage, query.sizePage);
    return this.mapper.toMessagePage(id, rows, total, currentPage, query.sizePage);
  }

  async findMessage(id: string, messageId: string): Promise<MessageDto> {
    if (!(await this.conversations.exists(id, this.scope()))) throw notFound(id);
    const message = await this.conversations.findMessage(id, messageId);
    if (!message) throw messageNotFound(messageId);
    return this.mapper.toMessageDto(message);
  }

  /** POST …/messages: the caller's message (see `post`), its answer kept for its Idempotency-Key. */
  async postMessage(id: string, dto: CreateMessageDto): Promise<MessageDto> {
    const caller = currentCaller();
    // A person writes as their sub when they send none; a service (or anyone with AUTH_MODE=off) must say who writes.
    const transmitterId = actingId(caller, 'transmitterId', dto.transmitterId);
    if (transmitterId === undefined) throw invalid('transmitterId', 'is required');
    return this.conversations.transaction(async (manager) => {
      const answer = await this.post(manager, caller, id, dto, transmitterId);
      await this.idempotency.storeWithin(manager, HttpStatus.CREATED, answer);
      return answer;
    });
  }

  /**
   * A reply that came back by mail (contract A2) from a participant the unread digest was sent to:
   * posted as that participant, to the other side, as POST …/messages would. The inbound service
   * has checked the token and the sender and runs this in its own transaction. Returns the id.
   */
  async postByMail(
    manager: EntityManager,
    reply: { conversationId: string; participantId: string; text: string },
  ): Promise<string> {
    const dto = (await this.validator.transform(
      { content: reply.text, transmitterId: reply.participantId },
      { type: 'body', metatype: CreateMessageDto },
    )) as CreateMessageDto;
    const posted = await this.post(manager, UNCHECKED_SERVICE, reply.conversationId, dto, reply.participantId);
    return posted.id;
  }

  /**
   * Posts a message under the conversation's row lock: messages of one conversation are written
   * one after the other, each sent strictly after the previous one, so the newest is always the
   * conversation's lastMessage. A message reopens a CLOSED conversation.
   */
  private async post(
    manager: EntityManager,
    caller: Caller,
    id: string,
    dto: CreateMessageDto,
    transmitterId: string,
  ): Promise<MessageDto> {
    const conversation = await this.conversations.lockById(manager, id, this.policy.scope(caller));
    if (!conversation) throw notFound(id);
    if (conversation.status === ConversationStatus.ARCHIVED)
      throw ApiError.conflict('The conversation is archived: no message can be posted any more.');
    const message = this.newMessage(caller, conversation, dto, transmitterId, after(conversation.updatedAt), '');
    await this.conversations.insertMessage(manager, message);
    const entries = [postedEntry(message)];
    if (conversation.status !== ConversationStatus.OPEN)
      entries.push({
        type: TimelineEntryType.STATUS_CHANGED,
        actorId: transmitterId,
        at: message.sendingDate,
        data: { from: conversation.status, to: ConversationStatus.OPEN },
      });
    await this.timeline.append(manager, conversation.id, entries);
    conversation.status = ConversationStatus.OPEN;
    conversation.lastMessageId = message.id;
    await this.touch(manager, conversation, message.sendingDate);
    // After the touch: the digest lists the conversations by their latest activity.
    if (message.receiverId) await this.digests.refresh(manager, message.receiverId);
    const answer = this.mapper.toMessageDto(message);
    await this.events.append(manager, [
      conversationEvent('message.created', conversation, answer),
      conversationEvent('conversation.updated', conversation, this.mapper.toDto(conversation, message)),
    ]);
    return answer;
  }

  /** Status only moves forward (SENT → DELIVERED → READ); receivedDate is set when it is first reached. */
  async updateMessageStatus(id: string, messageId: string, dto: UpdateMessageStatusDto): Promise<MessageDto> {
    const caller = currentCaller();
    const scope = this.policy.scope(caller);
    const message = await this.conversations.transaction(async (manager) => {
      if (!(await this.conversations.exists(id, scope, manager))) throw notFound(id);
      const message = await this.conversations.lockMessage(manager, id, messageId);
      if (!message) throw messageNotFound(messageId);
      if (MESSAGE_STATUS_ORDER.indexOf(dto.status) <= MESSAGE_STATUS_ORDER.indexOf(message.status)) {
        throw ApiError.conflict(
          `The message is ${message.status}: its status only moves forward (SENT → DELIVERED → READ).`,
        );
      }
      const from = message.status;
      message.status = dto.status;
      message.receivedDate ??= new Date();
      await this.conversations.saveMessageStatus(manager, message);
      await this.timeline.append(manager, id, [
        {
          type: TimelineEntryType.MESSAGE_STATUS_CHANGED,
          actorId: caller.id,
          data: { messageId, from, to: message.status },
        },
      ]);
      if (message.status === MessageStatus.READ && message.receiverId)
        await this.digests.refresh(manager, message.receiverId);
      await this.conversations.bumpVersionIfLast(manager, id, messageId);
      const participantIds = await this.conversations.participantsOf(manager, id);
      await this.events.append(manager, [
        { type: 'message.updated', data: this.mapper.toMessageDto(message), conversationId: id, participantIds },
      ]);
      return message;
    });
    return this.mapper.toMessageDto(message);
  }

  /** What the caller of this request may see (every look-up and list goes through it). */
  private scope(): ConversationScope {
    return this.policy.scope(currentCaller());
  }

  /**
   * A message of `conversation` from `transmitterId`: a participant (403 otherwise), of a type
   * that matches who they are (a person's is their role, see the policy), to another participant
   * (the other side by default).
   */
  private newMessage(
    caller: Caller,
    conversation: ConversationEntity,
    dto: MessageFieldsDto,
    transmitterId: string,
    sendingDate: Date,
    prefix: string,
  ): MessageEntity {
    const contentType = dto.contentType ?? ContentType.TEXT;
    if ((contentType === ContentType.IMAGE_URL || contentType === ContentType.FILE_URL) && !isHttpUrl(dto.content)) {
      throw invalid(`${prefix}content`, `must be an http(s) URL when contentType is ${contentType}`);
    }
    if (!conversation.participants.includes(transmitterId)) {
      throw ApiError.forbidden(`${transmitterId.slice(0, 255)} is not a participant of this conversation.`);
    }
    const isCustomer = transmitterId === conversation.customerId;
    const chosen = this.policy.transmitterTypeOf(caller, conversation, dto.transmitterType, `${prefix}transmitterType`);
    const transmitterType = chosen ?? (isCustomer ? TransmitterType.CUSTOMER : TransmitterType.AGENT);
    if (
      caller.kind !== 'person' &&
      (transmitterType === TransmitterType.CUSTOMER) !== isCustomer &&
      transmitterType !== TransmitterType.SYSTEM
    ) {
      throw invalid(
        `${prefix}transmitterType`,
        isCustomer ? 'must be CUSTOMER or SYSTEM for the customer' : 'may be CUSTOMER only for the customer',
      );
    }
    const receiverId = dto.receiverId ?? (isCustomer ? conversation.assignedAgentId : conversation.customerId);
    if (receiverId !== null && (receiverId === transmitterId || !conversation.participants.includes(receiverId))) {
      throw invalid(`${prefix}receiverId`, 'must be another participant of the conversation');
    }
    return Object.assign(new MessageEntity(), {
      id: randomUUID(),
      conversationId: conversation.id,
      sendingDate,
      transmitterId,
      receiverId,
      transmitterType,
      content: dto.content,
      contentType,
      status: MessageStatus.SENT,
      receivedDate: null,
      correlationId: this.cls.getId(),
    });
  }

  /** Records a change: a new version (the ETag) and a later activity date. */
  private async touch(
    manager: EntityManager,
    conversation: ConversationEntity,
    at = after(conversation.updatedAt),
  ): Promise<void> {
    conversation.version += 1;
    conversation.updatedAt = at;
    await this.conversations.saveConversation(manager, conversation);
  }

  private lastMessageOf(manager: EntityManager, conversation: ConversationEntity): Promise<MessageEntity | null> {
    return conversation.lastMessageId
      ? this.conversations.findMessageById(manager, conversation.lastMessageId)
      : Promise.resolve(null);
  }

  /** The answer of a change, and its `conversation.updated` event in the same transaction. */
  private async updated(manager: EntityManager, conversation: ConversationEntity): Promise<TaggedConversation> {
    const answer = this.tagged(conversation, await this.lastMessageOf(manager, conversation));
    await this.events.append(manager, [conversationEvent('conversation.updated', conversation, answer.conversation)]);
    return answer;
  }

  private tagged(conversation: ConversationEntity, lastMessage: MessageEntity | null): TaggedConversation {
    return { conversation: this.mapper.toDto(conversation, lastMessage), etag: this.mapper.etag(conversation) };
  }
}

/** An outbox event about a conversation, routed to its stream and its participants' streams. */
function conversationEvent(type: string, conversation: ConversationEntity, data: unknown): NewEvent {
  return { type, data, conversationId: conversation.id, participantIds: conversation.participants };
}

/** A MESSAGE_POSTED entry: its actor is the transmitter. */
function postedEntry(message: MessageEntity): NewTimelineEntry {
  return {
    type: TimelineEntryType.MESSAGE_POSTED,
    actorId: message.transmitterId,
    at: message.sendingDate,
    data: { messageId: message.id, receiverId: message.receiverId },
  };
}

/** The customer first, then the assigned agent, then the others in their order, each once. */
function withKeptParticipants(given: string[], customerId: string, assignedAgentId: string | null): string[] {
  return [...new Set([customerId, ...(assignedAgentId ? [assignedAgentId] : []), ...given])];
}

function sameState(
  current: ConversationEntity,
  next: Pick<
    ConversationEntity,
    | 'tripPublicationId'
    | 'tripReference'
    | 'establishmentId'
    | 'customerId'
    | 'assignedAgentId'
    | 'participants'
    | 'status'
  >,
): boolean {
  const sameParticipants =
    current.participants.length === next.participants.length &&
    next.participants.every((p) => current.participants.includes(p));
  return (
    sameParticipants &&
    current.tripPublicationId === next.tripPublicationId &&
    current.tripReference === next.tripReference &&
    current.establishmentId === next.establishmentId &&
    current.customerId === next.customerId &&
    current.assignedAgentId === next.assignedAgentId &&
    current.status === next.status
  );
}

function assertNotArchived(conversation: ConversationEntity): void {
  if (conversation.status === ConversationStatus.ARCHIVED)
    throw ApiError.conflict('The conversation is archived: it can no longer change.');
}

/**
 * `If-Match`: `*`, or a list of entity tags compared by their opaque value (the W/ prefix is
 * ignored: our tags name a version, so weak comparison is the meaningful one).
 */
function ifMatchAccepts(header: string, etag: string): boolean {
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** Strictly after `previous`, and now when the clock allows: activity and messages never go back in time. */
function after(previous: Date): Date {
  return new Date(Math.max(Date.now(), previous.getTime() + 1));
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function invalid(field: string, issue: string): ApiError {
  return ApiError.validation([{ field, location: 'body', issue }]);
}

function notFound(id: string): ApiError {
  return ApiError.notFound(`Conversation ${id}`);
}

function messageNotFound(id: string): ApiError {
  return ApiError.notFound(`Message ${id} of this conversation`);
}
