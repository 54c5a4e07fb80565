import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { EntityManager } from 'typeorm';
import { locationOf } from '../http/location';
import { IdempotencyRepository, KeyScope } from './idempotency.repository';

/** What the interceptor knows of a request sent with an Idempotency-Key. */
export interface IdempotentRequest extends KeyScope {
  requestHash: string;
  /** Set once the answer is stored. */
  stored: boolean;
}

export const IDEMPOTENT_REQUEST = 'idempotentRequest';

/** Thrown inside a transaction whose key another request took first: roll back and replay that one's answer. */
export class IdempotencyKeyTaken extends Error {
  constructor() {
    super('The Idempotency-Key was taken by a concurrent request');
  }
}

/**
 * Lets a service store the answer of an idempotent POST in the very transaction that creates what
 * the request creates: a request that created something can never lose its key, and two requests
 * with one key cannot both create (the second waits on the key, then rolls back and replays).
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

  /** Call inside the creating transaction, with the answer the request will give. No-op without a key. */
  async storeWithin(manager: EntityManager, statusCode: number, body: unknown, headers: Record<string, string> = {}): Promise<void> {
    const request = this.current();
    if (!request) return;
    const location = locationOf(statusCode, body);
    const stored = await this.keys.store(request, { requestHash: request.requestHash, statusCode, body, headers: location ? { ...headers, location } : headers }, manager);
    if (!stored) throw new IdempotencyKeyTaken();
    request.stored = true;
  }

  private current(): IdempotentRequest | undefined {
    return this.cls.isActive() ? this.cls.get<IdempotentRequest | undefined>(IDEMPOTENT_REQUEST) : undefined;
  }
}
