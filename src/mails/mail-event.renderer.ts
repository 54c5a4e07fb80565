import { Injectable, OnModuleInit } from '@nestjs/common';
import { EventRef, EventViewRenderer, EventViews } from '../common/events/event-views';
import { MailMapper } from './mail.mapper';
import { MailQueries } from './mail.queries';

/** What a mail event holds (written by the settle and cancellation statements): ids only. */
interface MailEventData {
  mailId: string;
  /** Set on `mail.delivery.*` events: whose delivery. */
  receiverId?: string;
}

/**
 * The `data` of `mail.*` events when they are sent (webhook calls): the mail as GET /v1/mails/{id}
 * shows it now (one query for all the events at hand), or for a `mail.delivery.*` event that
 * receiver's delivery with its `mailId`.
 */
@Injectable()
export class MailEventRenderer implements EventViewRenderer, OnModuleInit {
  readonly typePrefix = 'mail.';

  constructor(
    private readonly views: EventViews,
    private readonly queries: MailQueries,
    private readonly mapper: MailMapper,
  ) {}

  onModuleInit(): void {
    this.views.register(this);
  }

  async render(events: readonly EventRef[]): Promise<unknown[]> {
    const refs = events.map((event) => event.data as MailEventData);
    const found = await this.queries.findManyWithDeliveries([...new Set(refs.map((ref) => ref.mailId))]);
    const mails = new Map(found.map(({ mail, deliveries }) => [mail.id, this.mapper.toDto(mail, deliveries)]));
    return refs.map((ref) => {
      const mail = mails.get(ref.mailId);
      if (!mail || ref.receiverId === undefined) return mail;
      return { ...mail.deliveries.find((d) => d.receiverId === ref.receiverId), mailId: ref.mailId };
    });
  }
}
