/** Every kind of event the outbox holds (webhook subscriptions name these). */
export const EVENT_TYPES = [
  'mail.sent',
  'mail.failed',
  'mail.delivery.sent',
  'mail.delivery.failed',
  'mail.delivery.bounced',
  'mail.delivery.complained',
  'mail.cancelled',
  'contact.created',
  'conversation.created',
  'conversation.updated',
  'message.created',
  'message.updated',
  'recipient.unsubscribed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The Postgres channel that carries the ids of committed events (comma-separated). */
export const EVENTS_CHANNEL = 'events';

/** How long events are kept (what `Last-Event-ID` can replay). */
export const EVENT_RETENTION_HOURS = 24;
