import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Queues } from '../queue/queues';
import { CancellationFilter, CancellationOutcome, MailCommands } from './mail.commands';
import { MailFactory, MailSpec } from './mail.factory';
import { MailInserter } from './mail.inserter';
import { MailQueries } from './mail.queries';
import { MAIL_DELIVERIES } from './mail-deliveries.queue';

/**
 * What the service's own features do with mails (contact threads, unread digests), inside the
 * transaction of their own change: the mails module's one exported API. A mail is built by
 * MailFactory like every other and goes through the one pipeline; the worker is woken after the
 * commit.
 */
@Injectable()
export class MailWriter {
  constructor(
    private readonly factory: MailFactory,
    private readonly inserter: MailInserter,
    private readonly commands: MailCommands,
    private readonly queries: MailQueries,
    private readonly queues: Queues,
  ) {}

  /** Builds the mails and writes them in `manager`'s transaction; their ids, in order. */
  async create(manager: EntityManager, specs: MailSpec[], now = new Date()): Promise<string[]> {
    if (!specs.length) return [];
    const rows = specs.map((spec) => this.factory.build(spec, now));
    await this.inserter.insert(rows, manager);
    return rows.map((row) => row.mail.id);
  }

  /** Cancels what is still to be sent of the filter's mails, in `manager`'s transaction (MailCommands.cancel). */
  cancel(
    manager: EntityManager,
    filter: CancellationFilter,
    correlationId: string | null,
  ): Promise<CancellationOutcome> {
    return this.commands.cancel(filter, correlationId, manager);
  }

  /** The variables of a mail that is still SCHEDULED, read in `manager`'s transaction; null when it is not (any more). */
  scheduledVariables(manager: EntityManager, mailId: string): Promise<Record<string, unknown> | null> {
    return this.queries.findScheduledVariables(mailId, manager);
  }

  /** New mails are committed: the workers of every process look now rather than at their next poll. */
  nudge(): void {
    this.queues.nudge(MAIL_DELIVERIES);
  }
}
