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
}

/** The routes a multipart body is read by (@fastify/multipart owns the type; it reads nothing itself). */
const MULTIPART_ROUTES = new Set(['/v1/files']);

/**
 * multipart/form-data is parsed by @fastify/multipart, which only marks the request and leaves its
 * body to the route. POST /v1/files streams it; every other route answers it 415, but the
 * unsubscribe POST: RFC 8058 3.1 says a mail client's one-click POST SHOULD be multipart/form-data,
 * and its one field, `List-Unsubscribe=One-Click`, tells nothing the POST itself does not, so its
 * body is read (bounded, 413 beyond) and dropped.
 */
export function guardMultipartRoutes(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', async (request: FastifyRequest) => {
    if (!request.isMultipart()) return;
    const route = request.routeOptions.url;
    if (route !== undefined && MULTIPART_ROUTES.has(route)) return;
    if (route !== UNSUBSCRIBE_ROUTE) throw notJson();
    await drain(request, FORM_BODY_LIMIT);
  });
}

/** Reads the body to its end and drops it; 413 (and the connection closed) past `limit` bytes. */
function drain(request: FastifyRequest, limit: number): Promise<void> {
  const raw = request.raw;
  return new Promise((resolve, reject) => {
    let total = 0;
    const done = (error?: Error) => {
      raw.off('data', onData).off('end', onEnd).off('error', onError);
      if (error) {
        raw.pause();
        reject(error);
      } else resolve();
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) done(new ApiError('PAYLOAD_TOO_LARGE', undefined, [], { connection: 'close' }));
    };
    const onEnd = () => done();
    const onError = (error: Error) => done(error);
    raw.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

function notJson(): ApiError {
  return new ApiError('UNSUPPORTED_MEDIA_TYPE', undefined, [
    { field: 'Content-Type', location: 'header', issue: 'must be application/json' },
  ]);
}
