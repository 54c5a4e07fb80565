import { CallHandler, ExecutionContext, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { ClsService } from 'nestjs-cls';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, Observable, of } from 'rxjs';
import { currentCaller } from '../../auth/caller';
import { ApiError } from '../errors/api-error';
import { HttpResult } from '../http/http-result';
import { locationOf } from '../http/location';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { IdempotencyRepository, KeyScope } from './idempotency.repository';
import { IDEMPOTENT_REQUEST, IdempotencyKeyTaken, IdempotentRequest } from './idempotency.service';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * `Idempotency-Key` on every POST route (each carries @Idempotent), per caller: the same key and
 * body within 24 h answers the first response again (with `Idempotent-Replayed: true`) and creates
 * nothing; another body is a 422.
 * Services store the answer in their own transaction (IdempotencyService); for the others it is
 * stored here once the handler succeeded. Failures are not stored: the request may be retried.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly keys: IdempotencyRepository,
    private readonly cls: ClsService,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const key = request.headers[IDEMPOTENCY_HEADER];
    if (request.method !== 'POST' || key === undefined) return next.handle();
    if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
      throw ApiError.validation([{ field: 'Idempotency-Key', location: 'header', value: String(key).slice(0, 50), issue: 'must be 1 to 255 characters' }]);
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const id: KeyScope = { caller: currentCaller().id ?? '', scope: `POST ${request.url.split('?')[0]}`, key };
    const requestHash = createHash('sha256').update(canonicalJson(request.body ?? null)).digest('hex');

    return from(this.keys.find(id)).pipe(
      mergeMap((existing) => {
        if (existing) return of(replay(existing, requestHash, reply));
        const pending: IdempotentRequest = { ...id, requestHash, stored: false };
        this.cls.set(IDEMPOTENT_REQUEST, pending);
        return next.handle().pipe(
          mergeMap(async (body: unknown) => {
            if (!pending.stored) {
              // The answer as the client will get it (an HttpResult is applied after this, by a hook).
              const result = body instanceof HttpResult ? body : new HttpResult(body, this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ?? HttpStatus.CREATED);
              const location = locationOf(result.status, result.body);
              await this.keys.store(id, { requestHash, statusCode: result.status, body: result.body, headers: { ...result.headers, ...(location ? { location } : {}) } });
            }
            return body;
          }),
          catchError(async (error: unknown) => {
            if (!(error instanceof IdempotencyKeyTaken)) throw error;
            const first = await this.keys.find(id);
            if (!first) throw ApiError.conflict('A request with this Idempotency-Key was being processed; retry shortly.');
            return replay(first, requestHash, reply);
          }),
        );
      }),
    );
  }
}

/** The stored answer again, or 422 when the key came with another body. */
function replay(existing: IdempotencyKeyEntity, requestHash: string, reply: FastifyReply): unknown {
  if (existing.requestHash !== requestHash) throw new ApiError('IDEMPOTENCY_KEY_REUSED');
  void reply.status(existing.statusCode ?? HttpStatus.OK).headers({ ...existing.responseHeaders, 'idempotent-replayed': 'true' });
  return existing.responseBody;
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
