import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, Observable, of } from 'rxjs';
import { ApiError } from '../errors/api-error';
import { IdempotencyRepository } from './idempotency.repository';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const REPLAYED_HEADERS = ['location'];

/**
 * `Idempotency-Key` on every POST: the same key and body within 24 h answers the first response
 * again (with `Idempotent-Replayed: true`) and creates nothing; another body is a 422. Only
 * successful answers are kept: a failed request may be retried with the same key.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly keys: IdempotencyRepository) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const key = request.headers[IDEMPOTENCY_HEADER];
    if (request.method !== 'POST' || key === undefined) return next.handle();
    if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
      throw ApiError.validation([{ field: 'Idempotency-Key', location: 'header', value: String(key).slice(0, 50), issue: 'must be 1 to 255 characters' }]);
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const scope = `POST ${request.url.split('?')[0]}`;
    const hash = createHash('sha256').update(canonicalJson(request.body ?? null)).digest('hex');

    return from(this.keys.claim(scope, key, hash)).pipe(
      mergeMap((claim) => {
        if (!claim.claimed) {
          const { existing } = claim;
          if (existing.requestHash !== hash) throw new ApiError('IDEMPOTENCY_KEY_REUSED');
          if (existing.statusCode === null) {
            throw ApiError.conflict('A request with this Idempotency-Key is still being processed; retry shortly.');
          }
          reply.status(existing.statusCode).headers({ ...existing.responseHeaders, 'idempotent-replayed': 'true' });
          return of(existing.responseBody);
        }
        return next.handle().pipe(
          mergeMap(async (body: unknown) => {
            const headers = Object.fromEntries(REPLAYED_HEADERS.flatMap((name) => (reply.getHeader(name) ? [[name, String(reply.getHeader(name))]] : [])));
            await this.keys.complete(scope, key, reply.statusCode, body, headers);
            return body;
          }),
          catchError(async (error: unknown) => {
            await this.keys.release(scope, key);
            throw error;
          }),
        );
      }),
    );
  }
}

/** JSON with object keys sorted, so the same body sent with its keys in another order is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
