export enum MailStatus {
  SCHEDULED = 'SCHEDULED',
  PENDING = 'PENDING',
  SENT = 'SENT',
  PARTIALLY_SENT = 'PARTIALLY_SENT',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

export enum DeliveryStatus {
  PENDING = 'PENDING',
  SENT = 'SENT',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** Error code of a delivery whose receiver id resolves to no address. */
export const RECIPIENT_NOT_FOUND = 'RECIPIENT_NOT_FOUND';
