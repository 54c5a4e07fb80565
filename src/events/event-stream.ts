import type { ServerResponse } from 'node:http';
import { StoredEvent } from './events.repository';

/** The events a client of the Server-Sent Events streams receives (the contract's list). */
export const STREAMED_EVENT_TYPES: ReadonlySet<string> = new Set([
  'message.created',
  'message.updated',
  'conversation.updated',
  'read-marker.updated',
]);

/** One `text/event-stream` frame: the event's id, its name and the resource as JSON. */
export function sseFrame(event: Pick<StoredEvent, 'id' | 'type' | 'data'>): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * One open stream. Writes never wait: a client that does not read fills the socket's buffer, and
 * once more than `maxBufferedBytes` are waiting it is dropped (it reconnects with Last-Event-ID and
 * is replayed what it missed), so a slow client neither slows the others nor grows memory.
 * While the replay of a reconnecting client runs, live events are held (bounded the same way) and
 * sent after it, each once. Live events at or below the client's Last-Event-ID are skipped until
 * a newer one is sent: the instance it reconnects to may be a little behind the one it left.
 */
export class EventStream {
  private closed = false;
  private replaying = true;
  private held: Array<{ id: string; frame: string }> = [];
  private heldBytes = 0;
  /** The client's Last-Event-ID, until a live event above it is sent. */
  private receivedUpTo: bigint | null;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxBufferedBytes: number,
    readonly filter: { conversationId?: string; participantId?: string },
    private readonly onDropped: () => void = () => undefined,
    lastEventId: string | null = null,
  ) {
    this.receivedUpTo = lastEventId === null ? null : BigInt(lastEventId);
  }

  get isClosed(): boolean {
    return this.closed || this.res.destroyed;
  }

  /** A live event for this stream, framed once for all the streams it goes to. */
  push(event: StoredEvent, frame = sseFrame(event)): void {
    if (this.isClosed) return;
    if (this.receivedUpTo !== null) {
      if (BigInt(event.id) <= this.receivedUpTo) return;
      this.receivedUpTo = null;
    }
    if (this.replaying) {
      this.held.push({ id: event.id, frame });
      this.heldBytes += frame.length;
      if (this.heldBytes > this.maxBufferedBytes) this.drop();
      return;
    }
    this.write(frame);
  }

  /**
   * Sends the replayed events, then what arrived meanwhile and was not in the replay, and goes
   * live. (The replay may reach ids that live events brought meanwhile too: each is sent once.)
   */
  finishReplay(replayed: StoredEvent[]): void {
    const sent = new Set<string>();
    for (const event of replayed) {
      sent.add(event.id);
      this.write(sseFrame(event));
    }
    const held = this.held;
    this.held = [];
    this.replaying = false;
    for (const { id, frame } of held) if (!sent.has(id)) this.write(frame);
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

  private write(frame: string): void {
    if (this.isClosed) return;
    if (this.res.writableLength > this.maxBufferedBytes) return this.drop();
    this.res.write(frame);
  }

  private drop(): void {
    if (this.isClosed) return;
    this.closed = true;
    this.held = [];
    this.res.destroy();
    this.onDropped();
  }
}
