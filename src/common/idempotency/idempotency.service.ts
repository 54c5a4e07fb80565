import { HttpStatus, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { EntityManager } from 'typeorm';
import { ApiError } from '../errors/api-error';
import { locationOf } from '../http/location';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { IdempotencyRepository, KeyScope } from './idempotency.repository';

/** What the guard knows of a request sent with an Idempotency-Key. */
export interface IdempotentRequest extends KeyScope {
  requestHash: string;
}

export const IDEMPOTENT_REQUEST = 'idempotentRequest';

/**
 * The first answer to a key, given again: thrown instead of running the handler (or to roll back
 * a transaction that lost the key to a concurrent request), and sent as it was stored, with
 * `Idempotent-Replayed: true`, by the exception filter.
 */
export class IdempotentReplay extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;

  private constructor(stored: IdempotencyKeyEntity) {
    super('The answer stored under this Idempotency-Key');
    this.status = stored.statusCode ?? HttpStatus.OK;
    this.headers = { ...stored.responseHeaders, 'idempotent-replayed': 'true' };
    // null is stored for an answer without a body (a 202 of a redelivery): given again without one.
    this.body = stored.responseBody ?? undefined;
  }

  /** The stored answer, or 422 when the key came with another body. */
  static of(stored: IdempotencyKeyEntity, requestHash: string): IdempotentReplay | ApiError {
    return stored.requestHash === requestHash ? new IdempotentReplay(stored) : new ApiError('IDEMPOTENCY_KEY_REUSED');
  }
}

/**
 * Stores the answer of an idempotent POST, the one way there is: every POST's service calls
 * `storeWithin` in the transaction that does its work (creates, cancels, queues again), so a
 * request whose work committed can never lose its key, and two requests with one key cannot both
 * do it (the second waits on the key, then rolls back and replays). Nothing is stored after a
 * commit. Failures are not stored: the request may be retried.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly keys: IdempotencyRepository,
    private readonly cls: ClsService,
  ) {}

  /** Whether the current request carries an Idempotency-Key (its answer must then be stored with what it creates). */
  active(): boolean {
    return this.current() !== undefined;
  }

  /**
   * Call inside the transaction that does the request's work, with the answer the request will
   * give (status, body, and the headers a replay gives again: `etag` if any; `location` is taken
   * from the body's self link of a 201/202). No-op without a key. When a concurrent request took the
   * key first, throws its answer (IdempotentReplay), which rolls this transaction back.
   */
  async storeWithin(
    manager: EntityManager,
    statusCode: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<void> {
    const request = this.current();
    if (!request) return;
    const location = locationOf(statusCode, body);
    const stored = await this.keys.store(
      request,
      { requestHash: request.requestHash, statusCode, body, headers: location ? { ...headers, location } : headers },
      manager,
    );
    if (!stored) {
      // The other request committed before this insert returned: its answer is visible here.
      const first = await this.keys.find(request, manager);
      throw first
        ? IdempotentReplay.of(first, request.requestHash)
        : ApiError.conflict('A request with this Idempotency-Key was being processed; retry shortly.');
    }
  }

  private current(): IdempotentRequest | undefined {
    return this.cls.isActive() ? this.cls.get<IdempotentRequest | undefined>(IDEMPOTENT_REQUEST) : undefined;
  }
}
