import { LinkDto } from '../../common/links/link.dto';
import { PageDto } from '../../common/pagination/page.dto';
import { ConversationStatus } from '../conversation.entity';
import { ContentType, MessageStatus, TransmitterType } from '../message.entity';

export class MessageDto {
  id: string;
  conversationId: string;
  sendingDate: string;
  transmitterId: string;
  /** Null when the other side is nobody yet (no agent assigned). */
  receiverId: string | null;
  transmitterType: TransmitterType;
  content: string;
  contentType: ContentType;
  status: MessageStatus;
  /** When it became DELIVERED (or READ, when it skipped DELIVERED); null before. */
  receivedDate: string | null;
  /** The correlation id of the request that posted it. */
  correlationId: string;
  links: LinkDto[];
}

export class ConversationDto {
  id: string;
  tripPublicationId: string;
  tripReference: string;
  establishmentId: string;
  customerId: string;
  assignedAgentId: string | null;
  /** Ids of the users involved; always holds the customer and the assigned agent. */
  participants: string[];
  /** The newest message, or null. */
  lastMessage: MessageDto | null;
  status: ConversationStatus;
  createdAt: string;
  /** Last activity: a message, an update or an assignment. */
  updatedAt: string;
  /** Only in lists filtered by `participantId`: that participant's unread messages here. */
  unreadCount?: number;
  links: LinkDto[];
}

export class ConversationPageDto extends PageDto<ConversationDto> {
  content: ConversationDto[];
}

export class MessagePageDto extends PageDto<MessageDto> {
  content: MessageDto[];
}
