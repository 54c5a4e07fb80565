import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { CallerIdentity, requestCaller } from '../context/request-caller';
import { ApiError } from '../errors/api-error';
import { IdempotencyRepository, KeyScope } from './idempotency.repository';
import { IDEMPOTENT_REQUEST, IdempotentReplay, IdempotentRequest } from './idempotency.service';

const IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * `Idempotency-Key` on every POST route (each carries @Idempotent), per caller: the same key and
 * body within 24 h answers the first response again (with `Idempotent-Replayed: true`) and creates
 * nothing; another body is a 422. Runs after the global guards (the caller is known) and before
 * validation. A guard rather than an interceptor: Nest wraps every route that has an interceptor
 * in an rxjs pipeline and two AsyncResource bindings, about a third of the CPU of a POST without a
 * key. The guard only answers a key already stored and records the key for the request; the key
 * is taken by the insert of its answer in the transaction that does the work
 * (IdempotencyService.storeWithin), not by a reservation committed here first: a reservation would
 * outlive a crash before the work and leave the key unusable, without an answer, for 24 h.
 */
@Injectable()
export class IdempotencyGuard implements CanActivate {
  constructor(
    private readonly keys: IdempotencyRepository,
    private readonly cls: ClsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const key = request.headers[IDEMPOTENCY_HEADER];
    if (key === undefined) return true;
    if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
      throw ApiError.validation([
        {
          field: 'Idempotency-Key',
          location: 'header',
          value: String(key).slice(0, 50),
          issue: 'must be 1 to 255 characters',
        },
      ]);
    }
    const id: KeyScope = {
      caller: keyOwner(requestCaller(), request.ip),
      scope: `POST ${request.url.split('?')[0]}`,
      key,
    };
    const requestHash = createHash('sha256')
      .update(canonicalJson(request.body ?? null))
      .digest('hex');
    const existing = await this.keys.find(id);
    if (existing) throw IdempotentReplay.of(existing, requestHash);
    this.cls.set<IdempotentRequest>(IDEMPOTENT_REQUEST, { ...id, requestHash });
    return true;
  }
}

/**
 * Whose keys these are, so that no caller ever gets another's answer: a service under its key name
 * (as before, so keys stored by an earlier version still replay), a person under `sub:<sub>`, a
 * caller without a token under `ip:<client address>`; '' when AUTH_MODE=off. Key names never hold
 * a colon (API_KEYS), so the three never meet. No caller in the context counts as a caller without a token.
 */
function keyOwner(caller: CallerIdentity | undefined, clientAddress: string): string {
  if (caller?.kind === 'person') return `sub:${caller.id}`;
  if (caller === undefined || caller.kind === 'anonymous') return `ip:${clientAddress}`;
  return caller.id ?? '';
}

/** JSON with object keys sorted, so the same body sent with its keys in another order is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
