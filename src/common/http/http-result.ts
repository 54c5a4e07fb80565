import type { FastifyReply } from 'fastify';
import { locationOf } from './location';

/**
 * What a controller returns when the status or headers depend on the outcome (201 vs 200, an
 * ETag), so controllers never touch the reply object. The body is sent as is.
 */
export class HttpResult<T> {
  constructor(
    readonly body: T,
    readonly status: number,
    readonly headers: Record<string, string> = {},
  ) {}
}

/**
 * Applies an HttpResult's status and headers, and gives every 201/202 a `Location` header: the
 * `self` link of the created resource, so the URL is built in one place (the mapper's links).
 * Run by a Fastify `preSerialization` hook (app.setup.ts) on every object body: as a global Nest
 * interceptor it cost every request an rxjs pipeline.
 */
export function applyHttpResult(reply: FastifyReply, payload: unknown): unknown {
  let body = payload;
  if (payload instanceof HttpResult) {
    reply.status(payload.status);
    reply.headers(payload.headers);
    body = payload.body;
  }
  const location = locationOf(reply.statusCode, body);
  if (location) reply.header('location', location);
  return body;
}
