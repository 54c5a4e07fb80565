import { Injectable } from '@nestjs/common';
import { MailWithDeliveries } from './mail.entity';
import { MailInserter } from './mail.inserter';

/** A flush stops taking requests past these sizes, so one statement stays reasonably small. */
const MAX_MAILS = 500;
const MAX_DELIVERIES = 5_000;

interface Waiting {
  rows: MailWithDeliveries[];
  committed: () => void;
  failed: (error: unknown) => void;
}

/**
 * Group commit of accepted mails: the requests that arrive while a write is in flight are written
 * together by the next one, in a single statement, and each is answered only once that statement
 * committed (durability unchanged; the cost per mail falls with concurrency). A group that fails
 * is written again request by request, so one bad row never fails its neighbours.
 */
@Injectable()
export class MailWriteBatcher {
  private readonly waiting: Waiting[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly inserter: MailInserter) {}

  /** Resolves once `rows` are committed; rejects with the database's error if they are not. */
  write(rows: MailWithDeliveries[]): Promise<void> {
    return new Promise((committed, failed) => {
      this.waiting.push({ rows, committed, failed });
      this.flushing ??= this.flush().finally(() => (this.flushing = null));
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length) {
      const group = this.takeGroup();
      try {
        await this.inserter.insert(group.flatMap((item) => item.rows));
        group.forEach((item) => item.committed());
      } catch (error) {
        if (group.length === 1) {
          group[0].failed(error);
          continue;
        }
        await Promise.all(group.map((item) => this.inserter.insert(item.rows).then(item.committed, item.failed)));
      }
    }
  }

  private takeGroup(): Waiting[] {
    let mails = 0;
    let deliveries = 0;
    let count = 0;
    for (const item of this.waiting) {
      const size = item.rows.reduce((sum, row) => sum + row.deliveries.length, 0);
      if (count > 0 && (mails + item.rows.length > MAX_MAILS || deliveries + size > MAX_DELIVERIES)) break;
      mails += item.rows.length;
      deliveries += size;
      count++;
    }
    return this.waiting.splice(0, count);
  }
}
