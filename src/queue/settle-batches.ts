import { Logger } from '@nestjs/common';

const MAX_BATCH = 500;
const MAX_BACKOFF_MS = 5_000;

/** What a settle came to: the write landed (with its result), or it was given up at the drain deadline. */
export type Settled<R> = { landed: true; result: R | undefined } | { landed: false };

/**
 * Records outcomes many at a time (those that finish while a write is in flight go together in the
 * next) and retries a write that fails until it lands: an attempt whose effect happened (a mail the
 * relay accepted) must be recorded, or it would be made again when its lease runs out. Given up only
 * past the drain deadline, when the process is leaving: those jobs then go back to their lease.
 */
export class SettleBatches<O, R> {
  private readonly waiting: Array<{ outcome: O; done: (settled: Settled<R>) => void }> = [];
  private flushing: Promise<void> | null = null;
  private giveUpAt = Infinity;
  /** Ends the pause before the next try early (the drain deadline moved closer). */
  private retryNow?: () => void;

  constructor(
    private readonly write: (outcomes: O[]) => Promise<R[]>,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the outcome is committed, or given up at the drain deadline. */
  settle(outcome: O): Promise<Settled<R>> {
    return new Promise((done) => {
      this.waiting.push({ outcome, done });
      this.flushing ??= this.flush().finally(() => (this.flushing = null));
    });
  }

  /** Shutdown: the writes in hand get until `deadline` (a timestamp) to land. */
  async drain(deadline: number): Promise<void> {
    this.giveUpAt = deadline;
    this.retryNow?.();
    await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      for (let failures = 0; ; failures++) {
        try {
          const results = await this.write(batch.map((item) => item.outcome));
          batch.forEach((item, i) => item.done({ landed: true, result: results[i] }));
          break;
        } catch (error) {
          if (Date.now() >= this.giveUpAt) {
            this.logger.error(
              { err: error, outcomes: batch.length },
              'Could not record outcomes before exit; their leases will expire and they will be taken up again',
            );
            batch.forEach((item) => item.done({ landed: false }));
            break;
          }
          const wait = Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures, Math.max(0, this.giveUpAt - Date.now()));
          this.logger.warn(
            { err: error, outcomes: batch.length, retryInMs: wait },
            'Could not record outcomes; retrying',
          );
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            this.retryNow = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.retryNow = undefined;
        }
      }
    }
  }
}
