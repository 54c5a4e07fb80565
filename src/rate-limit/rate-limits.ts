import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { RateLimiterAbstract, RateLimiterPostgres, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import { DataSource } from 'typeorm';
import { Caller } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';
import { AppConfig, InjectConfig } from '../config/app.config';

/** The table every counter lives in (see migrations/1764000001000-RateLimits.ts). */
export const RATE_LIMIT_TABLE = 'rate_limit';
/** A store that does not answer within this time is treated as failed: the request goes through. */
const STORE_TIMEOUT_MS = 2000;
const CLEANUP_EVERY_MS = 5 * 60_000;

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
 * also refused from memory until its window ends, so a flood costs no database write.
 */
@Injectable()
export class RateLimits implements OnModuleDestroy {
  private readonly logger = new Logger('RateLimits');
  private readonly requests?: RateLimiterAbstract;
  private readonly threadsPerMail?: RateLimiterAbstract;
  private readonly threadsPerAddress?: RateLimiterAbstract;
  private readonly cleanup?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    const { perMinute, contactThreadsPerHour } = config.rateLimit;
    if (perMinute > 0) this.requests = this.limiter('req', perMinute, 60, true);
    if (contactThreadsPerHour > 0) {
      this.threadsPerMail = this.limiter('contact-mail', contactThreadsPerHour, 3600, false);
      this.threadsPerAddress = this.limiter('contact-ip', contactThreadsPerHour, 3600, false);
    }
    if (config.runMode !== 'worker' && (this.requests || this.threadsPerMail)) {
      this.cleanup = setInterval(() => void this.deleteExpired(), CLEANUP_EVERY_MS).unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.cleanup);
  }

  /**
   * Counts one request against RATE_LIMIT_PER_MINUTE of its caller: the API key name, the token
   * subject, else the client address. Null when the limit is off or its store failed.
   */
  async consumeRequest(caller: Caller, clientAddress: string): Promise<RateLimitState | null> {
    if (!this.requests) return null;
    const limit = this.config.rateLimit.perMinute;
    const key = caller.id === null ? `ip:${clientAddress}` : `${caller.kind === 'service' ? 'key' : 'sub'}:${caller.id}`;
    try {
      return state(limit, await this.requests.consume(storeKey(key)));
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) return this.storeFailed(outcome);
      throw tooManyRequests(state(limit, outcome), `More than ${limit} requests a minute; retry later.`);
    }
  }

  /**
   * Counts a new contact thread against CONTACT_RATE_LIMIT_PER_HOUR of both the visitor's address
   * (case-insensitive) and the client address; 429 when either is spent.
   */
  async consumeContactThread(mail: string, clientAddress: string): Promise<void> {
    if (!this.threadsPerMail || !this.threadsPerAddress) return;
    const outcomes = await Promise.allSettled([
      this.threadsPerMail.consume(storeKey(mail.trim().toLowerCase(), true)),
      this.threadsPerAddress.consume(storeKey(clientAddress)),
    ]);
    const limit = this.config.rateLimit.contactThreadsPerHour;
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' && outcome.reason instanceof RateLimiterRes ? [outcome.reason] : []));
    if (refused.length) {
      const longest = refused.reduce((a, b) => (a.msBeforeNext >= b.msBeforeNext ? a : b));
      throw tooManyRequests(state(limit, longest), `At most ${limit} new contact threads an hour from one address; retry later.`);
    }
    for (const outcome of outcomes) if (outcome.status === 'rejected') this.storeFailed(outcome.reason);
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

  private async deleteExpired(): Promise<void> {
    try {
      await this.dataSource.query(`DELETE FROM ${RATE_LIMIT_TABLE} WHERE expire < $1`, [Date.now() - 60_000]);
    } catch (error) {
      this.logger.warn({ err: error }, 'Expired rate limit counters could not be deleted');
    }
  }
}

/** Keys fit the store's 255 characters; an address is kept as a digest, not in clear. */
function storeKey(key: string, hashed = false): string {
  return hashed || key.length > 200 ? `sha256:${createHash('sha256').update(key).digest('hex')}` : key;
}

function state(limit: number, res: RateLimiterRes): RateLimitState {
  return { limit, remaining: Math.max(0, res.remainingPoints), resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
}

/** The RateLimit-* headers of an answer (IETF draft names, as most gateways send them). */
export function rateLimitHeaders(limit: RateLimitState): Record<string, string> {
  return { 'ratelimit-limit': String(limit.limit), 'ratelimit-remaining': String(limit.remaining), 'ratelimit-reset': String(limit.resetSeconds) };
}

function tooManyRequests(limit: RateLimitState, message: string): ApiError {
  return new ApiError('TOO_MANY_REQUESTS', message, [], { ...rateLimitHeaders(limit), 'retry-after': String(limit.resetSeconds) });
}
