import { Injectable, Logger } from '@nestjs/common';
import { MailRepository, Settlement } from './mail.repository';
import { StoredDeliveryStatus } from './mail-status';

const MAX_BATCH = 500;
const MAX_BACKOFF_MS = 5_000;

/**
 * Records the outcomes of attempts, many in one statement (the ones that finish while a write is
 * in flight go together in the next), and retries a write that fails until it lands: a mail the
 * relay accepted must be recorded as SENT, or it would be sent again when its lease runs out.
 * Each outcome names its attempt, so writing it twice is harmless.
 */
@Injectable()
export class DeliverySettler {
  private readonly logger = new Logger(DeliverySettler.name);
  private readonly waiting: Array<{ settlement: Settlement; done: (status: StoredDeliveryStatus | null) => void }> = [];
  private flushing: Promise<void> | null = null;
  /** Past this instant (shutdown), a failing write is given up: its deliveries go back to their lease. */
  private giveUpAt = Infinity;

  constructor(private readonly repository: MailRepository) {}

  /**
   * Resolves once the outcome is committed, with the status the delivery now has (CANCELLED when a
   * cancellation reached the attempt), or null if the delivery was no longer this attempt's.
   */
  settle(settlement: Settlement): Promise<StoredDeliveryStatus | null> {
    return new Promise((done) => {
      this.waiting.push({ settlement, done });
      this.flushing ??= this.flush().finally(() => (this.flushing = null));
    });
  }

  /** Shutdown: the writes in hand get until `deadline` to land. */
  async drain(deadline: number): Promise<void> {
    this.giveUpAt = deadline;
    await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      for (let failures = 0; ; failures++) {
        try {
          const settled = await this.repository.settle(batch.map((item) => item.settlement));
          batch.forEach((item) => item.done(settled.get(item.settlement.id) ?? null));
          break;
        } catch (error) {
          if (Date.now() >= this.giveUpAt) {
            this.logger.error({ err: error, deliveries: batch.length }, 'Could not record delivery outcomes before exit; their leases will expire and they will be taken up again');
            batch.forEach((item) => item.done(null));
            break;
          }
          const wait = Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures);
          this.logger.warn({ err: error, deliveries: batch.length, retryInMs: wait }, 'Could not record delivery outcomes; retrying');
          await new Promise((resolve) => setTimeout(resolve, Math.min(wait, Math.max(0, this.giveUpAt - Date.now()))));
        }
      }
    }
  }
}
