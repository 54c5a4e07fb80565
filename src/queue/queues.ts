import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, Notification } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { QueueHandler, QueueOptions, queueChannel } from './queue-handler';
import { QueueRunner } from './queue-runner';

const RECONNECT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** Time kept out of SHUTDOWN_GRACE_SECONDS for what follows the drain (closing pools, exiting). */
const SHUTDOWN_MARGIN_MS = 2_000;

/**
 * The queues of this process: their runners, started on the worker side (RUN_MODE=worker and
 * all) and drained together at shutdown against one deadline, and their nudges. A nudge wakes the
 * runner of this process at once and, through `pg_notify('queue_<name>')` after the commit of the
 * new work, the runners of every other process, which LISTEN on one connection. A nudge lost (the
 * connection down, a notify that failed) is only a delay: the runners still poll.
 */
@Injectable()
export class Queues implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Queues.name);
  private readonly runners = new Map<string, QueueRunner<unknown, unknown, unknown>>();
  /** Notifies in flight per channel, and channels nudged again meanwhile (sent once more after). */
  private readonly notifying = new Set<string>();
  private readonly notifyAgain = new Set<string>();
  private listener?: Client;
  private closing = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Called by a handler's module at init; the runner starts with the application on the worker side. */
  register<J, O, R>(handler: QueueHandler<J, O, R>, options: QueueOptions): QueueRunner<J, O, R> {
    if (this.runners.has(handler.name)) throw new Error(`Queue ${handler.name} is registered twice`);
    const runner = new QueueRunner(handler, options);
    this.runners.set(handler.name, runner as QueueRunner<unknown, unknown, unknown>);
    return runner;
  }

  runner(name: string): QueueRunner<unknown, unknown, unknown> | undefined {
    return this.runners.get(name);
  }

  /** New work for queue `name` is committed: the runners of every process look now. */
  nudge(name: string): void {
    this.runners.get(name)?.nudge();
    this.notify(queueChannel(name));
  }

  onApplicationBootstrap(): void {
    if (this.config.runMode === 'api' || !this.runners.size) return;
    // Not awaited: an unreachable database must not hold the start; the runners poll meanwhile, and
    // are nudged once the connection listens.
    void this.listen();
    for (const runner of this.runners.values()) runner.start();
  }

  /**
   * SIGTERM: every runner stops claiming and drains against the same deadline, inside
   * SHUTDOWN_GRACE_SECONDS with a margin for what follows.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const graceMs = this.config.delivery.shutdownGraceSeconds * 1000;
    const deadline = Date.now() + Math.max(graceMs / 2, graceMs - SHUTDOWN_MARGIN_MS);
    const listener = this.listener;
    this.listener = undefined;
    await Promise.all([
      listener?.end().catch(() => undefined),
      ...[...this.runners.values()].map((runner) => runner.drain(deadline)),
    ]);
  }

  /** One `pg_notify` in flight per channel; nudges meanwhile are sent as one more after it. */
  private notify(channel: string): void {
    if (this.notifying.has(channel)) {
      this.notifyAgain.add(channel);
      return;
    }
    this.notifying.add(channel);
    this.dataSource
      .query(`SELECT pg_notify($1, '')`, [channel])
      .catch((error: unknown) =>
        this.logger.debug(
          { err: error, channel },
          'Could not notify the workers; they will find the work at their next poll',
        ),
      )
      .finally(() => {
        this.notifying.delete(channel);
        if (this.notifyAgain.delete(channel)) this.notify(channel);
      });
  }

  /** One connection LISTENs for every queue of this process; opened again when it breaks. */
  private async listen(): Promise<void> {
    if (this.closing) return;
    const client = new Client({
      connectionString: this.config.database.url,
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    client.on('notification', (message: Notification) => {
      for (const [name, runner] of this.runners) if (message.channel === queueChannel(name)) runner.nudge();
    });
    client.on('error', (error) => this.logger.warn({ err: error }, 'Queue listener connection failed; reconnecting'));
    client.on('end', () => {
      if (this.listener === client) this.listenLater();
    });
    try {
      await client.connect();
      for (const name of this.runners.keys()) await client.query(`LISTEN ${queueChannel(name)}`);
    } catch (error) {
      this.logger.warn({ err: error }, 'Could not listen for queue nudges; trying again (the runners poll meanwhile)');
      await client.end().catch(() => undefined);
      this.listenLater();
      return;
    }
    if (this.closing) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    // Work committed while nobody listened: look now.
    for (const runner of this.runners.values()) runner.nudge();
  }

  private listenLater(): void {
    if (this.closing) return;
    this.listener = undefined;
    setTimeout(() => void this.listen(), RECONNECT_MS).unref();
  }
}
