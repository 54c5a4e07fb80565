import { Logger } from '@nestjs/common';
import { QueueHandler, QueueOptions } from './queue-handler';
import { SettleBatches } from './settle-batches';

/**
 * The lease runner of one queue (DESIGN.md "One delivery, step by step"): claims due jobs with a
 * lease while it has free slots, runs each through its handler, and has the outcomes settled in
 * batches, retried until they land. With nothing due it waits for the poll interval, or less when
 * nudged (new work committed, here or, through LISTEN, in another process: a nudge lost is only a
 * delay). At shutdown it claims no more, gives the jobs in hand until the deadline to finish and be
 * recorded, and leaves the rest to their lease: taken up again by another worker, or this one after
 * a restart.
 */
export class QueueRunner<J, O, R = void> {
  private readonly logger: Logger;
  private readonly running = new Map<Promise<void>, J>();
  private readonly settler: SettleBatches<O, R>;
  private loop?: Promise<void>;
  private stopping = false;
  /** The drain deadline passed: what is still in hand is left to its lease, its outcome unwritten. */
  private abandoned = false;
  /** A nudge came while the runner was claiming: it claims again before it idles. */
  private nudged = false;
  private wake?: () => void;

  constructor(
    readonly handler: QueueHandler<J, O, R>,
    private readonly options: QueueOptions,
  ) {
    this.logger = new Logger(`Queue(${handler.name})`);
    this.settler = new SettleBatches((outcomes) => handler.settle(outcomes), this.logger);
  }

  get started(): boolean {
    return this.loop !== undefined;
  }

  /** Jobs in hand now. */
  get inHand(): number {
    return this.running.size;
  }

  /** Waiting for work: a nudge or the poll ends it (the claim before it found less than it asked for). */
  get waiting(): boolean {
    return this.wake !== undefined && this.running.size < this.options.concurrency;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** New work may be due: claim now rather than at the next poll. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /**
   * Stops claiming; the jobs in hand get until `deadline` (a timestamp) to finish and their outcomes
   * to land. Past it, what still runs keeps its lease and is taken up again when the lease ends.
   */
  async drain(deadline: number): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.wake?.();
    await this.loop;
    if (!(await settledBefore([...this.running.keys()], deadline))) {
      this.abandoned = true;
      this.logger.warn({ jobs: this.running.size }, 'Shutdown grace over: jobs still in hand are left to their lease');
    }
    await this.settler.drain(deadline);
  }

  private async run(): Promise<void> {
    const { concurrency, leaseSeconds, pollMs } = this.options;
    while (!this.stopping) {
      const free = concurrency - this.running.size;
      if (free <= 0) {
        await this.idle(null, [...this.running.keys()]);
        continue;
      }
      this.nudged = false;
      const inHand = [...this.running.values()];
      const heldBack = this.handler.heldBack?.(inHand) ?? false;
      let claimed: J[] = [];
      try {
        claimed = await this.handler.claim(free, leaseSeconds, inHand);
      } catch (error) {
        this.logger.warn({ err: error }, 'Could not claim jobs; trying again shortly');
      }
      for (const job of claimed) this.begin(job);
      // Fewer than asked for: nothing else is due now (or only work held back for the jobs in hand,
      // which a job that ends frees).
      if (claimed.length < free && !this.stopping) await this.idle(pollMs, heldBack ? [...this.running.keys()] : []);
    }
  }

  private begin(job: J): void {
    const task: Promise<void> = this.attempt(job).finally(() => this.running.delete(task));
    this.running.set(task, job);
  }

  private attempt(job: J): Promise<void> {
    const work = async (): Promise<void> => {
      let outcome: O;
      try {
        outcome = await this.handler.handle(job);
      } catch (error) {
        this.logger.error({ err: error }, 'A job failed unexpectedly; it is left to its lease');
        return;
      }
      if (this.abandoned) return;
      const settled = await this.settler.settle(outcome);
      if (settled.landed) this.handler.settled?.(job, outcome, settled.result);
    };
    // Nothing a handler throws may reach the loop: a task's rejection would be unhandled.
    return (this.handler.context ? this.handler.context(job, work) : work()).catch((error: unknown) => {
      this.logger.error({ err: error }, 'A job failed after its attempt');
    });
  }

  /**
   * Until `ms` passed, one of `orUntil` settled, or a nudge. With no `ms` (every slot taken) a nudge
   * that came earlier does not count: only a job that ends frees a slot, and returning at once would
   * spin the loop without ever yielding to the event loop.
   */
  private idle(ms: number | null, orUntil: Array<Promise<void>>): Promise<void> {
    if (this.stopping || (ms !== null && this.nudged)) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      if (ms !== null) timer = setTimeout(done, ms);
      this.wake = done;
      if (orUntil.length) void Promise.race(orUntil).then(done);
    });
  }
}

/** Whether every promise settled before `deadline` (a timestamp); the timer never outlives the wait. */
export async function settledBefore(promises: Array<Promise<unknown>>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>(
    (resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))),
  );
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
