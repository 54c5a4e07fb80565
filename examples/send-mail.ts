/**
 * A typed client of the communication service, generated from its OpenAPI document:
 *
 *   npx openapi-typescript openapi/communication.yaml -o examples/communication.d.ts   (npm run openapi does it)
 *
 * and used with openapi-fetch. Paths, parameters, bodies, answers, error bodies and stream events
 * are typed: a misspelt field, a missing path id or required field, an unknown category or error
 * name, or a status the operation never answers (checked with `answered`) fails to compile; each
 * is shown in what-fails-to-compile.ts, which `npm run typecheck` checks. The ids a category
 * requires and the variables it declares are the service's rules: a mail without them is a 400.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './communication';

export type ErrorBody = components['schemas']['ErrorBodyDto'];
export type Mail = components['schemas']['MailDto'];
/** An event of the Server-Sent Events streams: `data` is typed by the event's name. */
export type LiveEvent = components['schemas']['LiveEventDto'];

/** The statuses the document lists for an operation (besides `default`). */
export type StatusOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? Exclude<keyof R, 'default'>
  : never;

/** Whether the answer has this status, which must be one the operation can answer: another one fails to compile. */
export function answered<P extends keyof paths, M extends keyof paths[P]>(
  response: Response,
  status: StatusOf<P, M>,
): boolean {
  return response.status === status;
}

export function communicationClient(baseUrl: string, apiKey: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
}

/** Tells the service who the customer is, then posts a booking mail; answers the mail, or the error body. */
export async function sendBookingMail(
  client: ReturnType<typeof communicationClient>,
  customerId: string,
): Promise<{ mail?: Mail; error?: ErrorBody; location?: string | null }> {
  const put = await client.PUT('/v1/recipients/{recipientId}', {
    params: { path: { recipientId: customerId } },
    body: { email: `${customerId}@voyages.test`, firstName: 'Camille', locale: 'fr' },
  });
  if (put.error) return { error: put.error };

  const { data, error, response } = await client.POST('/v1/mails', {
    params: { header: { 'Idempotency-Key': `booking-RES-42-${customerId}` } },
    body: {
      receiversId: [customerId],
      category: 'CLIENT_TRIP_BOOKING_NOTIFICATION',
      reservationId: 'RES-42',
      publicationId: 'PUB-7',
      variables: {
        tripTitle: 'Randonnée dans les Calanques',
        departureDate: '2027-05-14',
        amount: { amount: 480, currency: 'EUR' },
      },
    },
  });
  if (error) {
    // Typed: name, debug_id, information_link and one detail per problem.
    const problems = error.details.map((detail) => `${detail.field}: ${detail.issue}`);
    return { error: { ...error, message: `${error.message} ${problems.join('; ')}`.trim() } };
  }
  // 202: the mail is stored and will be sent; its address is in Location.
  return {
    mail: data,
    location: answered<'/v1/mails', 'post'>(response, 202) ? response.headers.get('Location') : null,
  };
}

/** Several events in one request: each is judged on its own, so the answer gives a status per item. */
export async function sendBatch(
  client: ReturnType<typeof communicationClient>,
  customerIds: string[],
): Promise<number[]> {
  const { data } = await client.POST('/v1/mails/batch', {
    body: customerIds.map((id) => ({ receiversId: [id], category: 'PROFILE_COMPLETION_REQUEST' })),
  });
  return (data?.results ?? []).map((result) => result.status);
}

/** What a typo costs: the variable name is checked by the service (400), the category by the compiler. */
export async function sendWithUnknownVariable(
  client: ReturnType<typeof communicationClient>,
  customerId: string,
): Promise<ErrorBody | undefined> {
  const { error } = await client.POST('/v1/mails', {
    body: {
      receiversId: [customerId],
      category: 'CLIENT_PAYMENT_NOTIFICATION',
      reservationId: 'RES-42',
      variables: { amont: 480 },
    },
  });
  return error;
}

/** An event as a browser's EventSource hands it over (`addEventListener(name, (message) => …)`), typed. */
export function liveEvent(name: LiveEvent['event'], message: { lastEventId: string; data: string }): LiveEvent {
  return { id: message.lastEventId, event: name, data: JSON.parse(message.data) } as LiveEvent;
}

/** One line per event for an inbox: the compiler knows each event's `data`. */
export function describeLiveEvent(event: LiveEvent): string {
  switch (event.event) {
    case 'message.created':
      return `new message in ${event.data.conversationId}: ${event.data.content}`;
    case 'message.updated':
      return `message ${event.data.id} is ${event.data.status}`;
    case 'conversation.updated':
      return `conversation ${event.data.id} is ${event.data.status}`;
    case 'read-marker.updated':
      return `${event.data.participantId} has read ${event.data.conversationId} up to ${event.data.lastReadMessageId}`;
  }
}
