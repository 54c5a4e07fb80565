import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { RateLimiterAbstract, RateLimiterPostgres, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import { DataSource, EntityManager } from 'typeorm';
import { Caller } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';
import { AppConfig, InjectConfig } from '../config/app.config';

/** The table every counter lives in (see migrations/1764000001000-RateLimits.ts). */
export const RATE_LIMIT_TABLE = 'rate_limit';
/** A store that does not answer within this time is treated as failed: the request goes through. */
const STORE_TIMEOUT_MS = 2000;
/** How often, at most, the blocked addresses whose window ended are forgotten (when one is added). */
const PRUNE_EVERY_MS = 60_000;

/** Where a caller stands in its current window, for the RateLimit-* headers. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/**
 * Fixed-window counters kept in Postgres (rate-limiter-flexible's Postgres store on the app's own
 * pool), so every API instance counts against the same limits. A key that went over its limit is
 * also refused from memory until its window ends, so a flood costs no database write. Expired
 * counters are deleted by the maintenance job (src/queue/maintenance.job.ts).
 */
@Injectable()
export class RateLimits {
  private readonly logger = new Logger('RateLimits');
  private readonly requests?: RateLimiterAbstract;
  private readonly authFailures?: RateLimiterAbstract;
  /**
   * Client addresses past the failed-authentication limit, and when their window ends: looked up
   * before each request is authenticated, so it costs no database read.
   */
  private readonly authBlocked = new Map<string, number>();
  private prunedAt = Date.now();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    const { perMinute, authFailuresPerMinute } = config.rateLimit;
    if (perMinute > 0) this.requests = this.limiter('req', perMinute, 60, true);
    if (authFailuresPerMinute > 0) this.authFailures = this.limiter('auth-fail', authFailuresPerMinute, 60, false);
  }

  /**
   * Counts one request against RATE_LIMIT_PER_MINUTE of its caller: the API key name, the token
   * subject, else the client address. Null when the limit is off or its store failed.
   */
  async consumeRequest(caller: Caller, clientAddress: string): Promise<RateLimitState | null> {
    if (!this.requests) return null;
    const limit = this.config.rateLimit.perMinute;
    const key =
      caller.id === null ? `ip:${clientAddress}` : `${caller.kind === 'service' ? 'key' : 'sub'}:${caller.id}`;
    try {
      return state(limit, await this.requests.consume(storeKey(key)));
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) return this.storeFailed(outcome);
      throw tooManyRequests(state(limit, outcome), `More than ${limit} requests a minute; retry later.`);
    }
  }

  /**
   * 429 before authentication when the client address failed it more than AUTH_FAILURE_LIMIT_PER_MINUTE
   * times in its window, whatever it sends now: a right key must not answer otherwise than a wrong
   * one, or guessing goes on. Read from memory (no database read per request): an instance knows
   * once it has counted one failure of that address past the limit (the count is shared).
   */
  assertAuthNotBlocked(clientAddress: string): void {
    const until = this.authBlocked.get(clientAddress);
    if (until === undefined) return;
    if (until > Date.now()) throw this.authFailuresSpent(until - Date.now());
    this.authBlocked.delete(clientAddress);
  }

  /**
   * Counts a failed authentication (a 401) of the client address on every instance: the 429 that
   * replaces the 401 past the limit, else null.
   */
  async countAuthFailure(clientAddress: string): Promise<ApiError | null> {
    if (!this.authFailures) return null;
    try {
      await this.authFailures.consume(storeKey(clientAddress));
      return null;
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) return this.storeFailed(outcome);
      this.pruneAuthBlocked();
      this.authBlocked.set(clientAddress, Date.now() + outcome.msBeforeNext);
      return this.authFailuresSpent(outcome.msBeforeNext);
    }
  }

  /**
   * Counts a contact message that causes mail against CONTACT_RATE_LIMIT_PER_HOUR of both the
   * visitor's address (case-insensitive) and the client address; 429 when either is spent.
   * Counted in the caller's transaction, which stores the message: the count rolls back with a
   * message that is not stored (a refusal, an idempotent replay that lost the key), and a request
   * waiting here for a concurrent one holds no second connection of the pool. A failure fails the
   * message (it could not be stored either). The counters are rows of the same table and shape as
   * rate-limiter-flexible's, always taken in the same order (no deadlock).
   */
  async countContactMessage(manager: EntityManager, mail: string, clientAddress: string): Promise<void> {
    const limit = this.config.rateLimit.contactMessagesPerHour;
    if (limit <= 0) return;
    const counters = [];
    for (const key of [
      `contact-mail:${storeKey(mail.trim().toLowerCase(), true)}`,
      `contact-ip:${storeKey(clientAddress)}`,
    ]) {
      counters.push(await countIn(manager, key, 3600_000));
    }
    const spent = counters.filter((counter) => counter.points > limit);
    if (spent.length) {
      const ms = Math.max(...spent.map((counter) => counter.expire - Date.now()));
      const resetSeconds = Math.max(1, Math.ceil(ms / 1000));
      throw tooManyRequests(
        { limit, remaining: 0, resetSeconds },
        `At most ${limit} contact messages an hour from one address; retry later.`,
      );
    }
  }

  private authFailuresSpent(msBeforeNext: number): ApiError {
    const limit = this.config.rateLimit.authFailuresPerMinute;
    const resetSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return tooManyRequests(
      { limit, remaining: 0, resetSeconds },
      `More than ${limit} failed authentications a minute from this address; retry later.`,
    );
  }

  private limiter(keyPrefix: string, points: number, duration: number, blockInMemory: boolean): RateLimiterAbstract {
    const store = new RateLimiterPostgres({
      storeClient: this.dataSource,
      storeType: 'typeorm',
      tableName: RATE_LIMIT_TABLE,
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix,
      points,
      duration,
      // Past the limit, refused from memory until the window ends (0 duration: "until msBeforeNext").
      ...(blockInMemory ? { inMemoryBlockOnConsumed: points + 1, inMemoryBlockDuration: 0 } : {}),
    });
    return new RLWrapperTimeouts({ limiter: store, timeoutMs: STORE_TIMEOUT_MS });
  }

  private storeFailed(error: unknown): null {
    this.logger.warn({ err: error }, 'The rate limit store failed; the request goes through unlimited');
    return null;
  }

  /** Forgets the addresses whose window ended, so the map stays as small as the addresses blocked now. */
  private pruneAuthBlocked(): void {
    const now = Date.now();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    for (const [address, until] of this.authBlocked) if (until <= now) this.authBlocked.delete(address);
  }
}

/**
 * One point on a counter within the manager's transaction, as rate-limiter-flexible's Postgres
 * store counts (a fixed window that starts with the first point): the points and end of its window.
 */
async function countIn(
  manager: EntityManager,
  key: string,
  durationMs: number,
): Promise<{ points: number; expire: number }> {
  const now = Date.now();
  const rows: Array<{ points: number; expire: string }> = await manager.query(
    `INSERT INTO ${RATE_LIMIT_TABLE} (key, points, expire) VALUES ($1, 1, $2)
     ON CONFLICT (key) DO UPDATE SET
       points = CASE WHEN ${RATE_LIMIT_TABLE}.expire <= $3 THEN 1 ELSE ${RATE_LIMIT_TABLE}.points + 1 END,
       expire = CASE WHEN ${RATE_LIMIT_TABLE}.expire <= $3 THEN $2 ELSE ${RATE_LIMIT_TABLE}.expire END
     RETURNING points, expire`,
    [key, now + durationMs, now],
  );
  return { points: rows[0].points, expire: Number(rows[0].expire) };
}

/** Keys fit the store's 255 characters; an address is kept as a digest, not in clear. */
function storeKey(key: string, hashed = false): string {
  return hashed || key.length > 200 ? `sha256:${createHash('sha256').update(key).digest('hex')}` : key;
}

function state(limit: number, res: RateLimiterRes): RateLimitState {
  return {
    limit,
    remaining: Math.max(0, res.remainingPoints),
    resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  };
}

/** The RateLimit-* headers of an answer (IETF draft names, as most gateways send them). */
export function rateLimitHeaders(limit: RateLimitState): Record<string, string> {
  return {
    'ratelimit-limit': String(limit.limit),
    'ratelimit-remaining': String(limit.remaining),
    'ratelimit-reset': String(limit.resetSeconds),
  };
}

function tooManyRequests(limit: RateLimitState, message: string): ApiError {
  return new ApiError('TOO_MANY_REQUESTS', message, [], {
    ...rateLimitHeaders(limit),
    'retry-after': String(limit.resetSeconds),
  });
}
