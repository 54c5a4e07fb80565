import { LinkDto } from '../../common/links/link.dto';
import { PageDto } from '../../common/pagination/page.dto';
import { MailCategory, ProductType } from '../../catalog/mail-category';
import type { VariableValue } from '../../catalog/mail-variables';
import { ErrorBodyDto } from '../../common/errors/error-body.dto';
import { AttemptOutcome, DeliveryErrorCode, DeliveryStatus, MailStatus } from '../mail-status';

export class DeliveryErrorDto {
  code: DeliveryErrorCode;
  /** What happened, in words. */
  message: string;
  /** The relay's reply, when it gave one (`550 5.1.1 No such user`). */
  smtpResponse: string | null;
}

export class DeliveryDto {
  receiverId: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due (a scheduled or retried delivery); null otherwise. */
  nextAttemptAt: string | null;
  /** The address it went to, masked (`j***@example.com`); null until the receiver is resolved. */
  email: string | null;
  sentAt: string | null;
  /** The Message-ID header of this delivery, the same on every attempt. */
  messageId: string;
  /** Why it failed, or why it is being retried (`SMTP_TEMPORARY`); null when nothing went wrong. */
  error: DeliveryErrorDto | null;
  /**
   * A cancellation reached this delivery during an attempt: it ends CANCELLED, or SENT if the relay
   * had accepted that copy.
   */
  cancelRequested: boolean;
  /** When its receiver reported this copy as spam (a complaint came back); null otherwise. */
  complainedAt: string | null;
}

export class MailDto {
  id: string;
  /** When the SMTP server first accepted one of the deliveries; null before. */
  sendingDate: string | null;
  receiversId: string[];
  publicationId: string | null;
  reservationId: string | null;
  productType: ProductType | null;
  organizationId: string | null;
  establishmentId: string | null;
  category: MailCategory;
  variables: Record<string, VariableValue>;
  /** The locale forced by the event, or null (each receiver's own). */
  locale: string | null;
  testMode: boolean;
  /** Sent even to receivers who unsubscribed from its category (never past the suppression list). */
  forceSending: boolean;
  /** Who set `forceSending`: the API key's name, or the admin's `sub`; null when not forced, or with AUTH_MODE=off. */
  forcedBy: string | null;
  /** When it is to be sent (a scheduled mail); null: at once. */
  scheduledAt: string | null;
  status: MailStatus;
  createdAt: string;
  /**
   * When its category's retention ran out: its variables, addresses, Reply-To and SMTP replies were
   * removed (`variables` is `{}`, each delivery's `email` null); null while it is intact.
   */
  purgedAt: string | null;
  correlationId: string;
  /** A cancellation reached one of its deliveries during an attempt (see each delivery's `cancelRequested`). */
  cancelRequested: boolean;
  deliveries: DeliveryDto[];
  links: LinkDto[];
}

export class MailPageDto extends PageDto<MailDto> {
  content: MailDto[];
}

export class DeliveryAttemptDto {
  /** Numbered from 1. */
  attempt: number;
  startedAt: string;
  /** Null while the attempt is under way. */
  finishedAt: string | null;
  /** Null while the attempt is under way. */
  outcome: AttemptOutcome | null;
  smtpResponse: string | null;
}

export class CancellationResultDto {
  /** How many mails were cancelled at once (`mailIds`). */
  count: number;
  /** Mails cancelled at once: nothing more of them will be sent. */
  mailIds: string[];
  /**
   * Mails with a delivery in an attempt: the cancellation is recorded on it, and it ends CANCELLED,
   * or SENT when the relay had already accepted that copy (the `mail.cancelled` or `mail.sent`
   * webhook says which). No new attempt starts.
   */
  requestedMailIds: string[];
}

export class BatchItemResultDto {
  /** Position of the event in the posted array, from 0. */
  index: number;
  /** 202: accepted (`mail`); 400: refused (`error`). */
  status: number;
  mail?: MailDto;
  error?: ErrorBodyDto;
}

export class BatchResultDto {
  results: BatchItemResultDto[];
}
