import { IsEnum, IsOptional } from 'class-validator';
import { LinkDto } from '../../common/links/link.dto';
import { PageDto, PageQueryDto } from '../../common/pagination/page.dto';

/** What an inbound message became (contract A2). */
export enum InboundMessageKind {
  /** A delivery status notification with a failed recipient: the delivery is BOUNCED. */
  BOUNCE = 'BOUNCE',
  /** A delivery status notification that only reports a delay: recorded on the delivery's attempts. */
  DELAY = 'DELAY',
  /** A spam complaint (feedback report): the address is suppressed (COMPLAINT). */
  COMPLAINT = 'COMPLAINT',
  /** A person's answer, posted in the contact thread or conversation of the mail it answers. */
  REPLY = 'REPLY',
  /** An out-of-office or other automatic answer: changes nothing. */
  AUTO_REPLY = 'AUTO_REPLY',
  /** Addressed to an unsubscribe address (`unsubscribe+{token}@INBOUND_DOMAIN`): its receiver is unsubscribed from its category. */
  UNSUBSCRIBE = 'UNSUBSCRIBE',
  /** Not from the person the reply address was sent to, a token that is not valid, or refused by its thread. */
  REJECTED = 'REJECTED',
  /** Nothing the service can act on. */
  UNRECOGNISED = 'UNRECOGNISED',
}

export class InboundMessageDto {
  id: string;
  kind: InboundMessageKind;
  /** @example "2026-12-07T10:15:00.000Z" */
  receivedAt: string;
  /** The address of its `From` header (a mailer daemon for a bounce). */
  from: string | null;
  /** Where it was delivered: the envelope recipients (SMTP), or its addressee headers (HTTP). */
  to: string[];
  subject: string | null;
  /** Its `Message-ID`; the same one again is recognised as a duplicate. */
  messageId: string | null;
  /** The delivery (the copy we sent to one person) it is about, when one was found. */
  deliveryId: string | null;
  mailId: string | null;
  /** The contact thread a reply was posted in (its first message's id). */
  contactId: string | null;
  conversationId: string | null;
  /** The contact message or conversation message a REPLY became. */
  postedMessageId: string | null;
  /** Why it was REJECTED, UNRECOGNISED or changed nothing, in words; null when it did what its kind says. */
  reason: string | null;
  links: LinkDto[];
}

export class InboundMessagePageDto extends PageDto<InboundMessageDto> {
  content: InboundMessageDto[];
}

export class ListInboundMessagesQueryDto extends PageQueryDto {
  @IsOptional()
  @IsEnum(InboundMessageKind)
  kind?: InboundMessageKind;
}
