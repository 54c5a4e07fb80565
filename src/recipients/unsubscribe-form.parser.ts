import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../common/errors/api-error';

/** The one route that reads a form: RFC 8058's one-click POST, and the unsubscribe page's button. */
export const UNSUBSCRIBE_ROUTE = '/v1/unsubscribe/:token';

/** `List-Unsubscribe=One-Click&source=page` is 43 bytes: anything much longer is not ours. */
const FORM_BODY_LIMIT = 1024;

/**
 * `application/x-www-form-urlencoded` for the unsubscribe POST alone. Every other route still
 * answers a form post 415 (json-body.parser.ts: a form post is how CSRF arrives): this one is
 * public, changes only what its unguessable token names, and only ever to unsubscribed, so a
 * forged post does what the token holder could do anyway. Bounded; values are strings, the last
 * of a repeated name wins.
 */
export function registerUnsubscribeFormParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (request: FastifyRequest, body: string | Buffer, done: (error: Error | null, body?: unknown) => void) => {
      if (request.routeOptions.url !== UNSUBSCRIBE_ROUTE) return done(notJson(), undefined);
      const text = typeof body === 'string' ? body : body.toString('utf8');
      done(null, text.length ? Object.fromEntries(new URLSearchParams(text)) : undefined);
    },
  );
  // RFC 8058 3.1: a mail client's one-click POST SHOULD be multipart/form-data. Its one field,
  // `List-Unsubscribe=One-Click`, tells nothing the POST itself does not: read (bounded), not parsed.
  fastify.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: FORM_BODY_LIMIT },
    (request: FastifyRequest, _body: string | Buffer, done: (error: Error | null, body?: unknown) => void) => {
      if (request.routeOptions.url !== UNSUBSCRIBE_ROUTE) return done(notJson(), undefined);
      done(null, undefined);
    },
  );
}

function notJson(): ApiError {
  return new ApiError('UNSUPPORTED_MEDIA_TYPE', undefined, [
    { field: 'Content-Type', location: 'header', issue: 'must be application/json' },
  ]);
}
