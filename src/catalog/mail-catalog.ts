import { MAIL_CATEGORIES, MailCategory, MailReferenceField } from './mail-category';

export type VariableType = 'string' | 'number' | 'date' | 'money' | 'boolean';

/** A value a sender may put in `variables`; the copy reads it as `vars.<name>`. */
export interface VariableDefinition {
  name: string;
  type: VariableType;
  required: boolean;
  description: string;
  example: string | number | boolean | { amount: number; currency: string };
}

/** One category: what the event must carry, what it may carry, and where its button leads. */
export interface CategoryDefinition {
  /** Ids the event must carry for this category (400 when one is missing). */
  requiredIds: MailReferenceField[];
  /** Variables the copy may use; any other name is refused. */
  variables: VariableDefinition[];
  /**
   * Path under FRONTEND_BASE_URL opened by the mail's button; `{field}` is replaced by the event's id
   * (or, failing one, by that variable). Null: no button (the frontend has no page for contact threads).
   */
  buttonPath: string | null;
  /**
   * Sent by the service itself (a digest, a forward), never posted by callers: it is built from
   * what only the service knows (its button needs ids no caller gives), so POST /v1/mails refuses it.
   */
  sentByService?: true;
}

// Every variable the copy knows, declared once; a category picks the ones its copy reads.
// None is required: the seed's callers send no variables and each mail reads well without them.
const VARIABLES = {
  tripTitle: {
    type: 'string',
    description: 'Title of the trip, shown instead of its publication id.',
    example: 'Randonnée dans les Calanques',
  },
  departureDate: {
    type: 'date',
    description: 'Departure date (ISO 8601), written for the receiver’s locale.',
    example: '2027-05-14',
  },
  amount: {
    type: 'money',
    description: 'Amount paid or due: `{amount, currency}` or a number in euros, written for the receiver’s locale.',
    example: { amount: 480, currency: 'EUR' },
  },
  travellers: { type: 'number', description: 'Number of travellers on the booking.', example: 2 },
  customerName: {
    type: 'string',
    description: 'Name of the customer who booked (mails to partners).',
    example: 'Léa Dubois',
  },
  organizationName: { type: 'string', description: 'Name of the organization.', example: 'Évasion Provence' },
  establishmentName: { type: 'string', description: 'Name of the establishment.', example: 'Gîte du Vieux Port' },
  conversationId: {
    type: 'string',
    description: 'Conversation the button opens (the most recently active one with unread messages).',
    example: '0b9f1c3e-5d7a-4c1e-9f4b-2a6d8e0c1f3a',
  },
  conversationCount: { type: 'number', description: 'Number of conversations with unread messages.', example: 2 },
  conversationList: {
    type: 'string',
    description: 'Trip references of the conversations with unread messages, comma-separated.',
    example: 'CAL-2027-05, VER-2027-07',
  },
} satisfies Record<string, Omit<VariableDefinition, 'name' | 'required'>>;

type VariableName = keyof typeof VARIABLES;

function category(
  requiredIds: MailReferenceField[],
  buttonPath: string | null,
  variables: VariableName[],
): CategoryDefinition {
  return {
    requiredIds,
    buttonPath,
    variables: variables.map((name) => ({ name, required: false, ...VARIABLES[name] })),
  };
}

const ORGANIZATION = '/organizations/{organizationId}';
const ESTABLISHMENT = '/establishments/{establishmentId}';
const TRIP = '/trips/{publicationId}';
const RESERVATION = '/reservations/{reservationId}';

/**
 * The categories of the contract. The words of each one, per locale, are in `copy/<locale>.json`
 * under the same key (see mail-copy.ts).
 */
export const MAIL_CATALOG: Record<MailCategory, CategoryDefinition> = {
  PROFILE_COMPLETION_REQUEST: category([], '/profile', []),
  ORGANIZATION_CREATION_REQUEST: category(['organizationId'], ORGANIZATION, ['organizationName']),
  ESTABLISHMENT_CREATION_REQUEST: category(['establishmentId'], ESTABLISHMENT, [
    'establishmentName',
    'organizationName',
  ]),
  ORGANIZATION_INFO_COMPLETION_REQUEST: category(['organizationId'], ORGANIZATION, ['organizationName']),
  ESTABLISHMENT_INFO_COMPLETION_REQUEST: category(['establishmentId'], ESTABLISHMENT, ['establishmentName']),
  USER_ACCOUNT_ACTIVATION_CONFIRMATION: category([], '/login', []),
  ORGANIZATION_ACTIVATION_CONFIRMATION: category(['organizationId'], ORGANIZATION, ['organizationName']),
  ESTABLISHMENT_ACTIVATION_CONFIRMATION: category(['establishmentId'], ESTABLISHMENT, ['establishmentName']),
  TRIP_DRAFT_PUBLICATION_REQUEST: category(['publicationId'], TRIP, ['tripTitle']),
  TRIP_PUBLICATION_NOTIFICATION: category(['publicationId'], TRIP, ['tripTitle', 'departureDate']),
  TRIP_RESPONSIBLE_DESIGNATION_NOTIFICATION: category(['publicationId'], TRIP, [
    'tripTitle',
    'organizationName',
    'departureDate',
  ]),
  PARTNER_TRIP_BOOKING_NOTIFICATION: category(['reservationId', 'publicationId'], RESERVATION, [
    'tripTitle',
    'customerName',
    'departureDate',
    'travellers',
    'amount',
  ]),
  CLIENT_TRIP_BOOKING_NOTIFICATION: category(['reservationId', 'publicationId'], RESERVATION, [
    'tripTitle',
    'departureDate',
    'travellers',
    'amount',
  ]),
  PARTNER_BOOKING_CANCELLATION_NOTIFICATION: category(['reservationId'], RESERVATION, [
    'tripTitle',
    'customerName',
    'departureDate',
  ]),
  CLIENT_BOOKING_CANCELLATION_NOTIFICATION: category(['reservationId'], RESERVATION, ['tripTitle', 'departureDate']),
  PARTNER_PAYMENT_NOTIFICATION: category(['reservationId'], RESERVATION, ['amount', 'customerName', 'tripTitle']),
  CLIENT_PAYMENT_NOTIFICATION: category(['reservationId'], RESERVATION, ['amount', 'tripTitle']),
  TRIP_REMINDER_NOTIFICATION: category(['reservationId', 'publicationId'], RESERVATION, ['tripTitle', 'departureDate']),
  CONVERSATION_UNREAD_MESSAGES: {
    ...category([], '/conversations/{conversationId}', ['conversationId', 'conversationCount', 'conversationList']),
    sentByService: true,
  },
  // Contact mails quote their contact message (read when they are sent): no variables, no button.
  CONTACT_FORWARD: { ...category([], null, []), sentByService: true },
  CONTACT_ACKNOWLEDGEMENT: { ...category([], null, []), sentByService: true },
  CONTACT_REPLY: { ...category([], null, []), sentByService: true },
};

/** The categories callers may post (POST /v1/mails and batches); the others are the service's own. */
export const CALLER_CATEGORIES: MailCategory[] = MAIL_CATEGORIES.filter(
  (category) => !MAIL_CATALOG[category].sentByService,
);
