import { IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { LinkDto } from '../../common/links/link.dto';
import { PageDto } from '../../common/pagination/page.dto';
import { MessageDto } from './conversation.dto';

export class UpdateReadMarkerDto {
  /** Whose marker; a person may only move their own (defaults to the token's `sub`). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  participantId?: string;

  /** The newest message this participant has read; every earlier message addressed to them becomes READ. */
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
