import { Injectable } from '@nestjs/common';

/** An event as a consumer of the outbox reads it: its type and its stored data. */
export interface EventRef {
  type: string;
  data: unknown;
}

/** Renders the data of one family of events (those whose type starts with `typePrefix`). */
export interface EventViewRenderer {
  readonly typePrefix: string;
  /** The data to send for each event, in order; undefined leaves that event's stored data (e.g. its resource is gone). */
  render(events: readonly EventRef[]): Promise<unknown[]>;
}

/**
 * The `data` of events that hold references only, rendered when a consumer sends them: mail events
 * hold `{mailId, receiverId?}`, and a webhook call carries the mail as GET /v1/mails/{id} shows it
 * then. The module that owns the resource registers its renderer at init (mails: `mail.`); a
 * consumer (webhooks) asks here, so neither imports the other.
 */
@Injectable()
export class EventViews {
  private readonly renderers: EventViewRenderer[] = [];

  register(renderer: EventViewRenderer): void {
    if (this.renderers.some((known) => known.typePrefix === renderer.typePrefix))
      throw new Error(`Events ${renderer.typePrefix}* have a renderer already`);
    this.renderers.push(renderer);
  }

  /** The data of each event, in order: rendered now by the owner of its resource, else as stored. */
  async render(events: readonly EventRef[]): Promise<unknown[]> {
    const data = events.map((event) => event.data);
    await Promise.all(
      this.renderers.map(async (renderer) => {
        const mine = events.flatMap((event, index) => (event.type.startsWith(renderer.typePrefix) ? [index] : []));
        if (!mine.length) return;
        const rendered = await renderer.render(mine.map((index) => events[index]));
        mine.forEach((index, n) => {
          if (rendered[n] !== undefined) data[index] = rendered[n];
        });
      }),
    );
    return data;
  }
}
