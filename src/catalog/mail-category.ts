/** The mail categories of the contract (what each one needs and says is in mail-catalog.ts). */
export enum MailCategory {
  PROFILE_COMPLETION_REQUEST = 'PROFILE_COMPLETION_REQUEST',
  ORGANIZATION_CREATION_REQUEST = 'ORGANIZATION_CREATION_REQUEST',
  ESTABLISHMENT_CREATION_REQUEST = 'ESTABLISHMENT_CREATION_REQUEST',
  ORGANIZATION_INFO_COMPLETION_REQUEST = 'ORGANIZATION_INFO_COMPLETION_REQUEST',
  ESTABLISHMENT_INFO_COMPLETION_REQUEST = 'ESTABLISHMENT_INFO_COMPLETION_REQUEST',
  USER_ACCOUNT_ACTIVATION_CONFIRMATION = 'USER_ACCOUNT_ACTIVATION_CONFIRMATION',
  ORGANIZATION_ACTIVATION_CONFIRMATION = 'ORGANIZATION_ACTIVATION_CONFIRMATION',
  ESTABLISHMENT_ACTIVATION_CONFIRMATION = 'ESTABLISHMENT_ACTIVATION_CONFIRMATION',
  TRIP_DRAFT_PUBLICATION_REQUEST = 'TRIP_DRAFT_PUBLICATION_REQUEST',
  TRIP_PUBLICATION_NOTIFICATION = 'TRIP_PUBLICATION_NOTIFICATION',
  TRIP_RESPONSIBLE_DESIGNATION_NOTIFICATION = 'TRIP_RESPONSIBLE_DESIGNATION_NOTIFICATION',
  PARTNER_TRIP_BOOKING_NOTIFICATION = 'PARTNER_TRIP_BOOKING_NOTIFICATION',
  CLIENT_TRIP_BOOKING_NOTIFICATION = 'CLIENT_TRIP_BOOKING_NOTIFICATION',
  PARTNER_BOOKING_CANCELLATION_NOTIFICATION = 'PARTNER_BOOKING_CANCELLATION_NOTIFICATION',
  CLIENT_BOOKING_CANCELLATION_NOTIFICATION = 'CLIENT_BOOKING_CANCELLATION_NOTIFICATION',
  PARTNER_PAYMENT_NOTIFICATION = 'PARTNER_PAYMENT_NOTIFICATION',
  CLIENT_PAYMENT_NOTIFICATION = 'CLIENT_PAYMENT_NOTIFICATION',
  TRIP_REMINDER_NOTIFICATION = 'TRIP_REMINDER_NOTIFICATION',
  /** Extension: sent by the service itself when a conversation message stays unread. */
  CONVERSATION_UNREAD_MESSAGES = 'CONVERSATION_UNREAD_MESSAGES',
  /** Extension: a new contact thread, forwarded to the support inbox (Reply-To: the writer). */
  CONTACT_FORWARD = 'CONTACT_FORWARD',
  /** Extension: a new contact thread, acknowledged to its writer. */
  CONTACT_ACKNOWLEDGEMENT = 'CONTACT_ACKNOWLEDGEMENT',
  /** Extension: a reply in a contact thread, to the thread's other party. */
  CONTACT_REPLY = 'CONTACT_REPLY',
}

/** The mails of contact threads: each quotes its contact message and goes to an address, not a user id. */
export const CONTACT_CATEGORIES = [
  MailCategory.CONTACT_FORWARD,
  MailCategory.CONTACT_ACKNOWLEDGEMENT,
  MailCategory.CONTACT_REPLY,
] as const;
export type ContactCategory = (typeof CONTACT_CATEGORIES)[number];

export const MAIL_CATEGORIES = Object.values(MailCategory);

/** Whether a person may refuse a category (contract A3): what the mail is for, not how it is sent. */
export enum CategoryKind {
  /** Follows from something the receiver did or owns (a booking, a payment, an activation, a contact thread). */
  TRANSACTIONAL = 'TRANSACTIONAL',
  /** A reminder or digest the receiver may refuse: one-click unsubscribe, honoured for every mail not yet sent. */
  SUBSCRIPTION = 'SUBSCRIPTION',
}

export const SUBSCRIPTION_CATEGORIES: ReadonlySet<string> = new Set([
  MailCategory.PROFILE_COMPLETION_REQUEST,
  MailCategory.ORGANIZATION_INFO_COMPLETION_REQUEST,
  MailCategory.ESTABLISHMENT_INFO_COMPLETION_REQUEST,
  MailCategory.TRIP_DRAFT_PUBLICATION_REQUEST,
  MailCategory.CONVERSATION_UNREAD_MESSAGES,
]);

export function kindOf(category: string): CategoryKind {
  return SUBSCRIPTION_CATEGORIES.has(category) ? CategoryKind.SUBSCRIPTION : CategoryKind.TRANSACTIONAL;
}

/**
 * Mails that invite an answer (contract A2): their copies carry a `reply+` Reply-To, and what is
 * answered is posted in their contact thread or conversation.
 */
export const ANSWERABLE_CATEGORIES: ReadonlySet<string> = new Set([
  ...CONTACT_CATEGORIES,
  MailCategory.CONVERSATION_UNREAD_MESSAGES,
]);

/** The ids a mail event may carry; a category requires some of them. */
export type MailReferenceField = 'publicationId' | 'reservationId' | 'organizationId' | 'establishmentId';

export const LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'fr';

export enum ProductType {
  TRIP = 'TRIP',
  HOTE = 'HOTE',
}
