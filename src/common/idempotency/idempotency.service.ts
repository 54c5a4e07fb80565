import { HttpStatus, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { FastifyReply } from 'fastify';
import type { EntityManager } from 'typeorm';
import { ApiError } from '../errors/api-error';
import { locationOf } from '../http/location';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { IdempotencyRepository, KeyScope } from './idempotency.repository';

/** What the guard knows of a request sent with an Idempotency-Key. */
export interface IdempotentRequest extends KeyScope {
  requestHash: string;
  /** Set once the answer is stored. */
  stored: boolean;
}

export const IDEMPOTENT_REQUEST = 'idempotentRequest';

/** The headers of a POST's answer that a repeated Idempotency-Key gives again, with its status and body. */
const REPLAYED_HEADERS = ['etag', 'location'];

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
 * Stores the answer of an idempotent POST: services that create something call `storeWithin` in
 * the very transaction that creates it, so a request that created something can never lose its
 * key, and two requests with one key cannot both create (the second waits on the key, then rolls
 * back and replays). For the other routes, the answer is stored once the handler succeeded
 * (`storeAnswer`, from an `onSend` hook). Failures are not stored: the request may be retried.
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
   * Call inside the creating transaction, with the answer the request will give. No-op without a
   * key. When a concurrent request took the key first, throws its answer (IdempotentReplay), which
   * rolls this transaction back.
   */
  async storeWithin(manager: EntityManager, statusCode: number, body: unknown, headers: Record<string, string> = {}): Promise<void> {
    const request = this.current();
    if (!request) return;
    const location = locationOf(statusCode, body);
    const stored = await this.keys.store(request, { requestHash: request.requestHash, statusCode, body, headers: location ? { ...headers, location } : headers }, manager);
    if (!stored) {
      // The other request committed before this insert returned: its answer is visible here.
      const first = await this.keys.find(request, manager);
      request.stored = true;
      throw first ? IdempotentReplay.of(first, request.requestHash) : ApiError.conflict('A request with this Idempotency-Key was being processed; retry shortly.');
    }
    request.stored = true;
  }

  /**
   * The current request's key, when its answer (status `statusCode`) still has to be stored: a
   * success of a route whose service did not store it in its own transaction.
   */
  unstored(statusCode: number): IdempotentRequest | undefined {
    const request = this.current();
    return request && !request.stored && statusCode < HttpStatus.BAD_REQUEST ? request : undefined;
  }

  /**
   * Stores the answer of a route that succeeded (see `unstored`) as it is being sent: its status,
   * its body (none for a 202 without one) and the headers a replay gives again.
   */
  async storeAnswer(request: IdempotentRequest, reply: FastifyReply, payload: unknown): Promise<void> {
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) if (reply.hasHeader(name)) headers[name] = String(reply.getHeader(name));
    const body: unknown = typeof payload === 'string' && payload ? JSON.parse(payload) : null;
    await this.keys.store(request, { requestHash: request.requestHash, statusCode: reply.statusCode, body, headers });
    request.stored = true;
  }

  private current(): IdempotentRequest | undefined {
    return this.cls.isActive() ? this.cls.get<IdempotentRequest | undefined>(IDEMPOTENT_REQUEST) : undefined;
  }
}
