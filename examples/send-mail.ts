/**
 * A typed client of the communication service, generated from its OpenAPI document:
 *
 *   npx openapi-typescript openapi/communication.yaml -o examples/communication.d.ts   (npm run openapi does it)
 *
 * and used with openapi-fetch. Paths, parameters, bodies, answers and error bodies are all typed:
 * a misspelt field, a missing required id or a wrong status check fails to compile.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './communication';

export type ErrorBody = components['schemas']['ErrorBodyDto'];
export type Mail = components['schemas']['MailDto'];

export function communicationClient(baseUrl: string, apiKey: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
}

/** Tells the service who the customer is, then posts a booking mail; answers the mail, or the error body. */
export async function sendBookingMail(client: ReturnType<typeof communicationClient>, customerId: string): Promise<{ mail?: Mail; error?: ErrorBody; location?: string | null }> {
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
      variables: { tripTitle: 'Randonnée dans les Calanques', departureDate: '2027-05-14', amount: { amount: 480, currency: 'EUR' } },
    },
  });
  if (error) {
    // Typed: name, debug_id, information_link and one detail per problem.
    const problems = error.details.map((detail) => `${detail.field}: ${detail.issue}`);
    return { error: { ...error, message: `${error.message} ${problems.join('; ')}`.trim() } };
  }
  return { mail: data, location: response.headers.get('Location') };
}

/** What a typo costs: the variable name is checked by the service (400), the category by the compiler. */
export async function sendWithUnknownVariable(client: ReturnType<typeof communicationClient>, customerId: string): Promise<ErrorBody | undefined> {
  const { error } = await client.POST('/v1/mails', {
    body: { receiversId: [customerId], category: 'CLIENT_PAYMENT_NOTIFICATION', reservationId: 'RES-42', variables: { amont: 480 } },
  });
  return error;
}
