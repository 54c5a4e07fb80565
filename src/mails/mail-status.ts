export enum MailStatus {
  SCHEDULED = 'SCHEDULED',
  PENDING = 'PENDING',
  SENT = 'SENT',
  PARTIALLY_SENT = 'PARTIALLY_SENT',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** What the API shows of a delivery. */
export enum DeliveryStatus {
  SCHEDULED = 'SCHEDULED',
  PENDING = 'PENDING',
  SENT = 'SENT',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
  /** Accepted by the relay, then reported undeliverable by a bounce (contract A2); counts as failed. */
  BOUNCED = 'BOUNCED',
}

/**
 * What the delivery row holds: the API's statuses plus SENDING, a delivery a worker has claimed
 * and is handing to SMTP (shown as PENDING; taken up again when its lease runs out).
 */
export type StoredDeliveryStatus = DeliveryStatus | 'SENDING';

/** Why a delivery failed, or why it is being retried (CONTRACT.md "Mails"). */
export enum DeliveryErrorCode {
  SMTP_TEMPORARY = 'SMTP_TEMPORARY',
  SMTP_REJECTED = 'SMTP_REJECTED',
  RECIPIENT_NOT_FOUND = 'RECIPIENT_NOT_FOUND',
  SUPPRESSED = 'SUPPRESSED',
  /** The receiver unsubscribed from the mail's (SUBSCRIPTION) category and the mail was not forced (contract A3). */
  UNSUBSCRIBED = 'UNSUBSCRIBED',
  RETRIES_EXHAUSTED = 'RETRIES_EXHAUSTED',
  EXPIRED = 'EXPIRED',
  /** A bounce came back after the relay had accepted the copy. */
  BOUNCED = 'BOUNCED',
}

export enum AttemptOutcome {
  SENT = 'SENT',
  TEMPORARY_FAILURE = 'TEMPORARY_FAILURE',
  PERMANENT_FAILURE = 'PERMANENT_FAILURE',
  /** Not an attempt of ours: a bounce received for a copy the relay had accepted. */
  BOUNCED = 'BOUNCED',
  /** Not an attempt of ours: a report that the copy is delayed on its way. */
  DELAYED = 'DELAYED',
}

/** Deliveries that have not ended: a cancellation stops them (a SENDING one when its attempt ends). */
export const UNFINISHED: StoredDeliveryStatus[] = [DeliveryStatus.SCHEDULED, DeliveryStatus.PENDING, 'SENDING'];
