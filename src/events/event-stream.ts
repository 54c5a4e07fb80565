import type { ServerResponse } from 'node:http';
import { StoredEvent } from './events.repository';

/** The events a client of the Server-Sent Events streams receives (the contract's list). */
export const STREAMED_EVENT_TYPES: ReadonlySet<string> = new Set(['message.created', 'message.updated', 'conversation.updated', 'read-marker.updated']);

/** One `text/event-stream` frame: the event's id, its name and the resource as JSON. */
export function sseFrame(event: Pick<StoredEvent, 'id' | 'type' | 'data'>): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * One open stream. Writes never wait: a client that does not read fills the socket's buffer, and
 * once more than `maxBufferedBytes` are waiting it is dropped (it reconnects with Last-Event-ID and
 * is replayed what it missed), so a slow client neither slows the others nor grows memory.
 * While the replay of a reconnecting client runs, live events are held (bounded the same way) and
 * sent after it, each once.
 */
export class EventStream {
  private closed = false;
  private replaying = true;
  private held: StoredEvent[] = [];
  private heldBytes = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxBufferedBytes: number,
    readonly filter: { conversationId?: string; participantId?: string },
    private readonly onDropped: () => void = () => undefined,
  ) {}

  get isClosed(): boolean {
    return this.closed || this.res.destroyed;
  }

  /** A live event for this stream. */
  push(event: StoredEvent): void {
    if (this.isClosed) return;
    if (this.replaying) {
      this.held.push(event);
      this.heldBytes += 64 + JSON.stringify(event.data).length;
      if (this.heldBytes > this.maxBufferedBytes) this.drop();
      return;
    }
    this.write(event);
  }

  /**
   * Sends the replayed events, then what arrived meanwhile and was not in the replay, and goes
   * live. (Ids are compared as a set: concurrent transactions commit, and are announced, out of
   * id order, so an older id may well arrive after a newer one.)
   */
  finishReplay(replayed: StoredEvent[]): void {
    const sent = new Set<string>();
    for (const event of replayed) {
      sent.add(event.id);
      this.write(event);
    }
    const held = this.held;
    this.held = [];
    this.replaying = false;
    for (const event of held) if (!sent.has(event.id)) this.write(event);
  }

  /** A comment line: keeps proxies from closing an idle stream. */
  heartbeat(): void {
    if (!this.isClosed && this.res.writableLength <= this.maxBufferedBytes) this.res.write(':\n\n');
  }

  /** Ends the stream cleanly (shutdown): the client reconnects elsewhere with Last-Event-ID. */
  end(): void {
    if (this.isClosed) return;
    this.closed = true;
    this.res.end();
  }

  private write(event: StoredEvent): void {
    if (this.isClosed) return;
    if (this.res.writableLength > this.maxBufferedBytes) return this.drop();
    this.res.write(sseFrame(event));
  }

  private drop(): void {
    if (this.isClosed) return;
    this.closed = true;
    this.held = [];
    this.res.destroy();
    this.onDropped();
  }
}
