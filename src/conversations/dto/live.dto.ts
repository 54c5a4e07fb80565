import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { LinkDto } from '../../common/links/link.dto';
import { PageDto } from '../../common/pagination/page.dto';
import { ConversationDto, MessageDto } from './conversation.dto';

export class UpdateReadMarkerDto {
  /**
   * Whose marker; a person may only move their own (defaults to the token's `sub`).
   * @example customer-42
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  participantId?: string;

  /**
   * The newest message this participant has read; every earlier message addressed to them becomes READ.
   * @example 3fa85f64-5717-4562-b3fc-2c963f66afa6
   */
  @IsUUID()
  lastReadMessageId: string;
}

export class ReadMarkerDto {
  participantId: string;
  lastReadMessageId: string;
  lastReadAt: string;
  /** Messages of this conversation addressed to the participant and still unread. */
  unreadCount: number;
  links: LinkDto[];
}

export class UnreadConversationDto {
  conversationId: string;
  unreadCount: number;
  /** The conversation's newest message. */
  lastMessage: MessageDto | null;
}

export class UnreadSummaryDto {
  totalUnread: number;
  /** Conversations with unread messages, most recent activity first. */
  conversations: UnreadConversationDto[];
  links: LinkDto[];
}

export enum TimelineEntryType {
  CREATED = 'CREATED',
  ASSIGNED = 'ASSIGNED',
  STATUS_CHANGED = 'STATUS_CHANGED',
  MESSAGE_POSTED = 'MESSAGE_POSTED',
  MESSAGE_STATUS_CHANGED = 'MESSAGE_STATUS_CHANGED',
  READ = 'READ',
}

export class TimelineEntryDto {
  id: string;
  type: TimelineEntryType;
  /** The message's transmitter, the marker's participant, else the caller (null when access control is off). */
  actorId: string | null;
  at: string;
  correlationId: string | null;
  /** What changed (ids, statuses), by type. */
  data: Record<string, unknown>;
}

export class TimelinePageDto extends PageDto<TimelineEntryDto> {
  content: TimelineEntryDto[];
}

/** `data` of a `read-marker.updated` event: the marker, with the conversation it belongs to. */
export class ReadMarkerEventDataDto extends ReadMarkerDto {
  conversationId: string;
}

// One schema per event of the streams, as an EventSource client reads it: the event's `id` (its
// Last-Event-ID), its name (`event`) and `data`, the resource, parsed from JSON.

export class MessageCreatedEventDto {
  /** Sent back as Last-Event-ID to resume after it. */
  id: string;
  @ApiProperty({ enum: ['message.created'] })
  event: 'message.created';
  /** The message posted. */
  data: MessageDto;
}

export class MessageUpdatedEventDto {
  /** Sent back as Last-Event-ID to resume after it. */
  id: string;
  @ApiProperty({ enum: ['message.updated'] })
  event: 'message.updated';
  /** The message, with its new status. */
  data: MessageDto;
}

export class ConversationUpdatedEventDto {
  /** Sent back as Last-Event-ID to resume after it. */
  id: string;
  @ApiProperty({ enum: ['conversation.updated'] })
  event: 'conversation.updated';
  /** The conversation as it is now. */
  data: ConversationDto;
}

export class ReadMarkerUpdatedEventDto {
  /** Sent back as Last-Event-ID to resume after it. */
  id: string;
  @ApiProperty({ enum: ['read-marker.updated'] })
  event: 'read-marker.updated';
  /** The participant's marker, moved forward. */
  data: ReadMarkerEventDataDto;
}

/** The schema of each event name of the streams (the document's `LiveEventDto`). */
export const LIVE_EVENTS = {
  'message.created': MessageCreatedEventDto,
  'message.updated': MessageUpdatedEventDto,
  'conversation.updated': ConversationUpdatedEventDto,
  'read-marker.updated': ReadMarkerUpdatedEventDto,
} as const;
