/**
 * What the generated types refuse. Each line under a `@ts-expect-error` fails to compile, and the
 * compiler fails if one ever compiles (`npm run typecheck`, test/typed-client.e2e-spec.ts): the
 * claims of send-mail.ts are checked, not only written. Nothing here is run.
 */
import { answered, communicationClient, ErrorBody, LiveEvent } from './send-mail';

export async function whatFailsToCompile(
  client: ReturnType<typeof communicationClient>,
  error: ErrorBody,
  response: Response,
  event: LiveEvent,
): Promise<unknown[]> {
  return [
    // @ts-expect-error a misspelt field: receiversId
    await client.POST('/v1/mails', { body: { receiverId: ['customer-7'], category: 'PROFILE_COMPLETION_REQUEST' } }),
    // @ts-expect-error a missing required field: category
    await client.POST('/v1/mails', { body: { receiversId: ['customer-7'] } }),
    // @ts-expect-error an unknown category
    await client.POST('/v1/mails', { body: { receiversId: ['customer-7'], category: 'BOOKING_CONFIRMATION' } }),
    // @ts-expect-error a missing path id: mailId
    await client.GET('/v1/mails/{mailId}', { params: { path: {} } }),
    // @ts-expect-error a status POST /v1/mails never answers (it accepts with 202)
    answered<'/v1/mails', 'post'>(response, 201),
    // @ts-expect-error an error name the service never sends (it is RESOURCE_NOT_FOUND)
    error.name === 'NOT_FOUND',
    // @ts-expect-error a misspelt field of the error body: details
    error.detials,
    // @ts-expect-error a field a read-marker.updated event does not have
    event.event === 'read-marker.updated' && event.data.content,
  ];
}
