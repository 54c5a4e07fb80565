import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { DELETE_EXPIRED_RATE_LIMITS } from './sql/delete-expired-rate-limits';
import { DELETE_OLD_EVENTS } from './sql/delete-old-events';
import { DELETE_OLD_IDEMPOTENCY_KEYS } from './sql/delete-old-idempotency-keys';
import { DELETE_OLD_INBOUND_MESSAGES } from './sql/delete-old-inbound-messages';
import { DELETE_OLD_WEBHOOK_CALLS } from './sql/delete-old-webhook-calls';
import { PURGE_ARCHIVED_CONVERSATION_MESSAGES } from './sql/purge-archived-conversation-messages';
import { PURGE_EXPIRED_MAILS } from './sql/purge-expired-mails';

/**
 * Every retention of the service, one line each: a name for the logs and a statement that deletes
 * (or, for mails and conversation messages, purges of their personal data) at most `$1` rows past
 * their time (`$2` and on: what `params` reads from the configuration) and answers `n`, how many.
 */
const RETENTIONS: ReadonlyArray<{ name: string; sql: string; params?: (config: AppConfig) => unknown[] }> = [
  { name: 'events', sql: DELETE_OLD_EVENTS },
  { name: 'webhookCalls', sql: DELETE_OLD_WEBHOOK_CALLS },
  { name: 'rateLimits', sql: DELETE_EXPIRED_RATE_LIMITS },
  { name: 'idempotencyKeys', sql: DELETE_OLD_IDEMPOTENCY_KEYS },
  { name: 'inboundMessages', sql: DELETE_OLD_INBOUND_MESSAGES, params: (c) => [c.inbound.retentionDays] },
  { name: 'mails', sql: PURGE_EXPIRED_MAILS, params: (c) => [c.retention.mailDays] },
  {
    name: 'conversationMessages',
    sql: PURGE_ARCHIVED_CONVERSATION_MESSAGES,
    params: (c) => [c.retention.conversationDays],
  },
];

/** Rows per statement: each is its own short transaction, so a large backlog never holds locks long. */
const BATCH = 1_000;
/** Statements per retention and run: a backlog larger than this is worked off over the next runs. */
const MAX_BATCHES = 100;

/**
 * Deletes or purges what is past its retention, every RETENTION_PURGE_INTERVAL_SECONDS (an hour by
 * default: the shortest retention, events, is a day) on the worker side. Several workers may run
 * it at once: rows one of them is deleting are skipped by the others (SKIP LOCKED).
 */
@Injectable()
export class MaintenanceJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MaintenanceJob.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<Record<string, number>>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.runMode === 'api') return;
    this.timer = setInterval(() => void this.run(), this.config.retention.purgeIntervalSeconds * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass over every retention (one at a time; a pass already under way is awaited); how many rows each deleted. */
  run(): Promise<Record<string, number>> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const { name, sql, params } of RETENTIONS) {
      deleted[name] = 0;
      const values = [BATCH, ...(params?.(this.config) ?? [])];
      try {
        for (let batch = 0; batch < MAX_BATCHES; batch++) {
          const [{ n }]: Array<{ n: number }> = await this.dataSource.query(sql, values);
          deleted[name] += n;
          if (n < BATCH) break;
        }
      } catch (error) {
        this.logger.warn(
          { err: error, retention: name },
          'Could not delete rows past their retention; trying again at the next run',
        );
      }
    }
    if (Object.values(deleted).some((n) => n > 0))
      this.logger.log({ deleted }, 'Rows past their retention deleted or purged');
    return deleted;
  }
}
