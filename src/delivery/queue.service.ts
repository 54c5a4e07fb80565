import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { CLS_ID, ClsService } from 'nestjs-cls';
import PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';

/** Every job carries the correlation id of the request that caused it. */
export interface QueuedData {
  correlationId: string;
}

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
 * The durable queue of contact-us notifications (pg-boss, in our own Postgres; mail deliveries
 * are their own queue, see MailRepository.claimDue). Jobs are inserted through the
 * caller's transaction, so a job exists exactly when the rows it delivers were committed.
 */
@Injectable()
export class QueueService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(QueueService.name);
  private readonly boss: PgBoss;
  private readonly queues = new Set<string>();
  private readonly loops: Promise<void>[] = [];
  private wakers: Array<() => void> = [];
  private stopping = false;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly cls: ClsService,
  ) {
    this.boss = new PgBoss({
      connectionString: config.database.url,
      schema: PGBOSS_SCHEMA,
      application_name: 'communication-queue',
      max: Math.min(config.delivery.concurrency + 2, 20),
      // Maintenance (expiring stuck jobs, archiving) runs wherever a worker runs, often enough that a
      // job whose worker died is retried about one lease later (its default is every 2 minutes).
      supervise: config.runMode !== 'api',
      maintenanceIntervalSeconds: Math.min(120, config.delivery.leaseSeconds),
      schedule: false,
    });
    this.boss.on('error', (error) => this.logger.error({ err: error }, 'Queue error'));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
  }

  /** Before the database closes: the jobs in hand finish (a job cut short by a crash expires and is retried). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wakers.splice(0).forEach((wake) => wake());
    await Promise.all(this.loops);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: Math.min(10_000, this.config.delivery.shutdownGraceSeconds * 1000) });
  }

  /** Creates the queue with the retry policy of deliveries, once per process. */
  async ensureQueue(name: string): Promise<void> {
    if (this.queues.has(name)) return;
    const policy = { name, ...this.retryPolicy() };
    try {
      if (await this.boss.getQueue(name)) await this.boss.updateQueue(name, policy);
      else await this.boss.createQueue(name, policy);
    } catch (error) {
      // Another instance created it at the same moment.
      if (!(await this.boss.getQueue(name))) throw error;
    }
    this.queues.add(name);
  }

  /**
   * The retry settings of the mail deliveries, for the jobs of this queue: a job expires (and is
   * retried) after one lease, which every SMTP timeout fits in.
   */
  private retryPolicy(): { retryLimit: number; retryDelay: number; retryBackoff: true; expireInSeconds: number } {
    const { maxAttempts, retryBaseSeconds, leaseSeconds } = this.config.delivery;
    return { retryLimit: maxAttempts - 1, retryDelay: retryBaseSeconds, retryBackoff: true, expireInSeconds: leaseSeconds };
  }

  /** Inserts jobs inside the transaction of `manager`. */
  async enqueue<T extends QueuedData>(name: string, jobs: T[], manager: EntityManager): Promise<void> {
    if (jobs.length === 0) return;
    await this.ensureQueue(name);
    const runner = manager.queryRunner;
    if (!runner) throw new Error('enqueue must run inside a transaction');
    const policy = this.retryPolicy();
    await this.boss.insert(
      jobs.map((data) => ({ name, data, ...policy })),
      { db: { executeSql: async (text: string, values: unknown[]) => ({ rows: (await runner.query(text, values, true)).records }) } },
    );
  }

  /**
   * Runs `handler` for each job, up to `concurrency` at a time. A RetryLater (or any error) fails
   * only that job, which pg-boss retries with exponential backoff and jitter until its retry limit.
   *
   * Our own loop rather than `boss.work()`: that one waits the polling interval after every batch,
   * which caps a worker at one batch per interval; this one fetches again at once while there is
   * work and only sleeps when the queue is empty.
   */
  async work<T extends QueuedData>(name: string, handler: (job: QueuedJob<T>) => Promise<void>): Promise<void> {
    // RUN_MODE=api only enqueues; the workers (RUN_MODE=worker or all) deliver.
    if (this.config.runMode === 'api') return;
    await this.ensureQueue(name);
    const { concurrency, pollingIntervalSeconds } = this.config.delivery;
    const loop = async (): Promise<void> => {
      while (!this.stopping) {
        let jobs: PgBoss.JobWithMetadata<T>[] = [];
        try {
          jobs = await this.boss.fetch<T>(name, { batchSize: concurrency, includeMetadata: true });
        } catch (error) {
          this.logger.error({ err: error, queue: name }, 'Could not fetch jobs');
        }
        if (jobs.length === 0) {
          await this.idle(pollingIntervalSeconds * 1000);
          continue;
        }
        await Promise.all(jobs.map((job) => this.run(name, job, handler)));
      }
    };
    this.loops.push(loop());
  }

  /** One job, in the correlation context of the request that queued it (for its logs and mail headers). */
  private async run<T extends QueuedData>(name: string, job: PgBoss.JobWithMetadata<T>, handler: (job: QueuedJob<T>) => Promise<void>): Promise<void> {
    try {
      await this.cls.run(() => {
        this.cls.set(CLS_ID, job.data.correlationId);
        return handler({ id: job.id, data: job.data, retryCount: job.retryCount, retryLimit: job.retryLimit });
      });
      await this.boss.complete(name, job.id);
    } catch (error) {
      if (!(error instanceof RetryLater)) this.logger.error({ err: error, jobId: job.id }, 'Job handler failed');
      // If this fails too, the job expires and is retried: never lost.
      await this.boss.fail(name, job.id, { message: (error as Error).message }).catch(() => undefined);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakers.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
