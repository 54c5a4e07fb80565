import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';

export interface QueuedJob<T> {
  id: string;
  data: T;
  /** Retries already made (0 on the first attempt). */
  retryCount: number;
  retryLimit: number;
}

/** Thrown by a job handler for a transient failure: the job is retried with backoff. */
export class RetryLater extends Error {}

const PGBOSS_SCHEMA = 'pgboss';

/**
 * The durable delivery queue (pg-boss, in our own Postgres). Jobs are inserted through the
 * caller's transaction, so a job exists exactly when the rows it delivers were committed.
 */
@Injectable()
export class QueueService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(QueueService.name);
  private readonly boss: PgBoss;
  private readonly queues = new Set<string>();

  constructor(@InjectConfig() private readonly config: AppConfig) {
    this.boss = new PgBoss({
      connectionString: config.database.url,
      schema: PGBOSS_SCHEMA,
      application_name: 'communication-queue',
      max: Math.min(config.delivery.concurrency + 2, 20),
      // Maintenance (expiring stuck jobs, archiving) runs wherever a worker runs.
      supervise: config.runMode !== 'api',
      schedule: false,
    });
    this.boss.on('error', (error) => this.logger.error({ err: error }, 'Queue error'));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
  }

  async onApplicationShutdown(): Promise<void> {
    // Active jobs get a moment to finish; what does not finish is retried by the next worker.
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  }

  /** Creates the queue with the retry policy of deliveries, once per process. */
  async ensureQueue(name: string): Promise<void> {
    if (this.queues.has(name)) return;
    const policy = {
      name,
      retryLimit: this.config.delivery.retryLimit,
      retryDelay: this.config.delivery.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: 120,
    };
    try {
      if (await this.boss.getQueue(name)) await this.boss.updateQueue(name, policy);
      else await this.boss.createQueue(name, policy);
    } catch (error) {
      // Another instance created it at the same moment.
      if (!(await this.boss.getQueue(name))) throw error;
    }
    this.queues.add(name);
  }

  /** Inserts jobs inside the transaction of `manager`. */
  async enqueue<T extends object>(name: string, jobs: T[], manager: EntityManager): Promise<void> {
    if (jobs.length === 0) return;
    await this.ensureQueue(name);
    const runner = manager.queryRunner;
    if (!runner) throw new Error('enqueue must run inside a transaction');
    const { retryLimit, retryDelaySeconds } = this.config.delivery;
    await this.boss.insert(
      jobs.map((data) => ({ name, data, retryLimit, retryDelay: retryDelaySeconds, retryBackoff: true, expireInSeconds: 120 })),
      { db: { executeSql: async (text: string, values: unknown[]) => ({ rows: (await runner.query(text, values, true)).records }) } },
    );
  }

  /**
   * Runs `handler` for each job, `concurrency` at a time. A RetryLater (or any error) fails only
   * that job, which pg-boss retries with exponential backoff and jitter until its retry limit.
   */
  async work<T extends object>(name: string, handler: (job: QueuedJob<T>) => Promise<void>): Promise<void> {
    await this.ensureQueue(name);
    const { concurrency, pollingIntervalSeconds } = this.config.delivery;
    await this.boss.work<T>(name, { batchSize: concurrency, includeMetadata: true, pollingIntervalSeconds }, async (jobs) => {
      await Promise.all(
        jobs.map(async (job) => {
          try {
            await handler({ id: job.id, data: job.data, retryCount: job.retryCount, retryLimit: job.retryLimit });
          } catch (error) {
            if (!(error instanceof RetryLater)) this.logger.error({ err: error, jobId: job.id }, 'Job handler failed');
            await this.boss.fail(name, job.id, { message: (error as Error).message });
          }
        }),
      );
    });
  }

  /** Jobs waiting or retrying, for the metrics. */
  async backlog(name: string): Promise<number> {
    return this.boss.getQueueSize(name);
  }
}
