import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { ApiError } from '../common/errors/api-error';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, Notification } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { EVENTS_CHANNEL } from './event-type';
import { EventStream, sseFrame, STREAMED_EVENT_TYPES } from './event-stream';
import { EventsRepository, StoredEvent } from './events.repository';

const REPLAY_PAGE = 500;
/** What a browser waits before reconnecting (the `retry:` field). */
const RETRY_MS = 2000;
const RECONNECT_MS = 1000;
/** Ids recently handed out, so a catch-up after a reconnection sends none twice. */
const RECENT_IDS = 10_000;
/** How often transactions are checked while events wait for them (a notification checks at once). */
const POLL_MS = 5;

/**
 * The Server-Sent Events of this instance. One dedicated Postgres connection LISTENs on the
 * outbox's channel: every instance hears the ids of every committed event, whichever instance
 * wrote it, reads them once, and hands each to the streams of its conversation and participants.
 * When that connection breaks it is opened again and what was committed meanwhile is read from
 * the outbox, so open streams miss nothing. A heartbeat comment goes to every stream on one timer.
 *
 * Events are handed out in id order, each once every smaller id is settled (committed and handed
 * out, or known never to be committed): ids are taken at insert but transactions commit in any
 * order, and a client that received id N and reconnects is replayed the ids above N only. So what
 * a read finds above a gap waits until the transactions then open have ended (see `take`), and a
 * replay stops at the settled id, the live events continuing from there.
 */
@Injectable()
export class EventStreamHub implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventStreamHub.name);
  private readonly byConversation = new Map<string, Set<EventStream>>();
  private readonly byParticipant = new Map<string, Set<EventStream>>();
  private readonly all = new Set<EventStream>();
  private listener?: Client;
  private heartbeat?: NodeJS.Timeout;
  private closing = false;
  private listened = false;
  /** Every id up to this one is settled: where replays stop and a catch-up after a reconnection starts. */
  private settled = 0n;
  private markStarted!: () => void;
  /** Resolved once `settled` is known: the transactions open when this instance started have ended. */
  private readonly started = new Promise<void>((resolve) => (this.markStarted = resolve));
  /** The newest id when this instance started listening: older events are nobody's news. */
  private floorId = 0n;
  private pending: string[] = [];
  private readonly recent = new Set<string>();
  /** Transactions that outlived the wait: warned about once and not waited for again. */
  private readonly overdue = new Set<string>();
  /** Ends the pause between two checks of open transactions early. */
  private wake?: () => void;
  private chain: Promise<void> = Promise.resolve();
  dropped = 0;

  constructor(
    private readonly events: EventsRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.runMode === 'worker') return;
    await this.listen();
    this.heartbeat = setInterval(() => {
      for (const stream of this.all) stream.heartbeat();
    }, this.config.live.sseHeartbeatSeconds * 1000);
    this.heartbeat.unref();
  }

  /** Ends every stream (cleanly: their clients reconnect to another instance) and stops listening. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const stream of this.all) stream.end();
    this.all.clear();
    this.byConversation.clear();
    this.byParticipant.clear();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  get openStreams(): number {
    return this.all.size;
  }

  get accepting(): boolean {
    return !this.closing && this.config.runMode !== 'worker';
  }

  /**
   * Answers a request with a stream: `text/event-stream` with the headers the request's hooks set
   * (correlation id, CORS, security), the server's idle timeout lifted for this socket (a heartbeat
   * keeps it alive instead), then the replay from `Last-Event-ID` and the live events.
   */
  async serve(
    reply: FastifyReply,
    filter: { conversationId?: string; participantId?: string },
    lastEventId: string | undefined,
  ): Promise<void> {
    if (lastEventId !== undefined && !/^\d{1,19}$/.test(lastEventId)) {
      throw ApiError.validation([
        {
          field: 'Last-Event-ID',
          location: 'header',
          value: lastEventId.slice(0, 50),
          issue: 'must be the id of an event received before',
        },
      ]);
    }
    if (!this.accepting) throw ApiError.serviceUnavailable(1, 'This instance is shutting down; reconnect.');
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    reply.request.raw.socket.setTimeout(0);
    res.write(`retry: ${RETRY_MS}\n\n`);
    flattenSentHeaders(res);
    try {
      await this.open(res, filter, lastEventId ?? null);
    } catch (error) {
      // The answer has begun: no error body can follow. The client reconnects with Last-Event-ID.
      this.logger.warn({ err: error }, 'Could not replay events to a stream; closing it');
      res.destroy();
    }
  }

  /**
   * Opens a stream on `res` (headers already written): registered first, so nothing committed
   * during the replay is missed, then replayed from `lastEventId` when the client sent one.
   */
  async open(
    res: ServerResponse,
    filter: { conversationId?: string; participantId?: string },
    lastEventId: string | null,
  ): Promise<EventStream> {
    const stream = new EventStream(
      res,
      this.config.live.sseBufferBytes,
      filter,
      () => {
        this.dropped += 1;
        this.remove(stream);
      },
      lastEventId,
    );
    this.add(stream);
    res.on('close', () => this.remove(stream));
    stream.finishReplay(lastEventId === null ? [] : await this.replay(stream, lastEventId));
    return stream;
  }

  /**
   * Hands events to their streams now, in the order given (also the entry point of tests and of
   * the bench); `take` decides when read events are due.
   */
  dispatch(events: StoredEvent[]): void {
    for (const event of events) {
      if (this.recent.has(event.id)) continue;
      this.recent.add(event.id);
      if (this.recent.size > RECENT_IDS) this.recent.delete(this.recent.values().next().value!);
      const id = BigInt(event.id);
      if (id > this.settled) this.settled = id;
      if (!STREAMED_EVENT_TYPES.has(event.type)) continue;
      let frame: string | undefined;
      const send = (streams: Set<EventStream> | undefined) => {
        if (!streams) return;
        frame ??= sseFrame(event);
        for (const stream of streams) stream.push(event, frame);
      };
      if (event.conversationId) send(this.byConversation.get(event.conversationId));
      for (const participantId of new Set(event.participantIds ?? [])) send(this.byParticipant.get(participantId));
    }
  }

  /**
   * What the stream missed after `lastEventId`, up to the settled id only: above it an older
   * transaction may still commit. The stream is registered already, so what is settled later
   * reaches it live, in order (an id both replayed and live is sent once).
   */
  private async replay(stream: EventStream, lastEventId: string): Promise<StoredEvent[]> {
    await this.started;
    const upTo = String(this.settled);
    const replayed: StoredEvent[] = [];
    let after = lastEventId;
    for (;;) {
      const page = await this.events.findAfter(after, REPLAY_PAGE, stream.filter, upTo);
      replayed.push(...page.filter((e) => STREAMED_EVENT_TYPES.has(e.type)));
      if (page.length < REPLAY_PAGE || stream.isClosed) return replayed;
      after = page[page.length - 1].id;
    }
  }

  private add(stream: EventStream): void {
    this.all.add(stream);
    const { index, key } = this.indexOf(stream);
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(stream);
  }

  private remove(stream: EventStream): void {
    if (!this.all.delete(stream)) return;
    const { index, key } = this.indexOf(stream);
    const set = index.get(key);
    set?.delete(stream);
    if (set?.size === 0) index.delete(key);
  }

  private indexOf(stream: EventStream): { index: Map<string, Set<EventStream>>; key: string } {
    return stream.filter.conversationId !== undefined
      ? { index: this.byConversation, key: stream.filter.conversationId }
      : { index: this.byParticipant, key: stream.filter.participantId! };
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.config.database.url, keepAlive: true });
    client.on('notification', (message: Notification) => this.onNotification(message));
    client.on('error', (error) => this.logger.warn({ err: error }, 'Event listener connection failed; reconnecting'));
    client.on('end', () => {
      if (this.listener === client) this.reconnectLater();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (error) {
      this.logger.warn({ err: error }, 'Could not listen for events; trying again');
      await client.end().catch(() => undefined);
      this.reconnectLater();
      return;
    }
    if (this.closing) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    if (this.listened) {
      // Commits made while nobody listened: read them from the outbox.
      this.enqueue(() => this.catchUp());
      return;
    }
    const newest = await this.newestId();
    this.listened = true;
    this.floorId = BigInt(newest);
    this.enqueue(() => this.start(newest));
  }

  /** The newest id is settled once the transactions open now have ended: a smaller id may be theirs. */
  private async start(newest: string): Promise<void> {
    try {
      await this.awaitOpenTransactions();
    } finally {
      if (BigInt(newest) > this.settled) this.settled = BigInt(newest);
      this.markStarted();
    }
  }

  private reconnectLater(): void {
    if (this.closing) return;
    this.listener = undefined;
    setTimeout(() => void this.listen(), RECONNECT_MS).unref();
  }

  private onNotification(message: Notification): void {
    if (message.channel !== EVENTS_CHANNEL || !message.payload) return;
    const first = this.pending.length === 0;
    this.pending.push(...message.payload.split(','));
    // Often the commit a read waits for.
    this.wake?.();
    // Notifications that arrive before the read starts are read with it, in one query.
    if (first) this.enqueue(() => this.readPending());
  }

  private async readPending(): Promise<void> {
    const ids = this.pending;
    this.pending = [];
    await this.take(await this.events.findByIds(ids));
  }

  /** From a little before the settled id: a transaction that outlived the wait may have committed below it. */
  private async catchUp(): Promise<void> {
    const back = this.settled - 1000n;
    let after = String(back > this.floorId ? back : this.floorId);
    for (;;) {
      const page = await this.events.findAfter(after, REPLAY_PAGE);
      await this.take(page);
      if (page.length < REPLAY_PAGE) return;
      after = page[page.length - 1].id;
    }
  }

  /**
   * Hands out what a read found (oldest first) in id order, once every smaller id is settled. An
   * id missing below one found was taken by a transaction that has not committed yet, or never
   * will (rolled back): the transaction had it before the found one committed, so it is among
   * those open now, or has ended. Once they have all ended, what the gaps hold is read and handed
   * out with the rest; a gap still empty then stays empty. (A transaction between taking an id and
   * its first write has no transaction id yet, so is not waited for: an instant inside one INSERT.)
   */
  private async take(events: StoredEvent[]): Promise<void> {
    const fresh = events.filter((event) => !this.recent.has(event.id));
    // At or below the settled id (a transaction that outlived the wait, or one that committed as
    // this instance started listening): sent now, out of order.
    this.dispatch(fresh.filter((event) => BigInt(event.id) <= this.settled));
    const ahead = fresh.filter((event) => BigInt(event.id) > this.settled);
    if (!ahead.length) return;
    const top = ahead[ahead.length - 1].id;
    if (BigInt(top) - this.settled > BigInt(ahead.length)) {
      await this.awaitOpenTransactions();
      ahead.push(
        ...(await this.events.findMissing(
          String(this.settled),
          top,
          ahead.map((event) => event.id),
        )),
      );
      ahead.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    }
    this.dispatch(ahead);
  }

  /**
   * Waits until the transactions open now have ended, for SSE_ORDER_WAIT_MS at most, so that one
   * transaction left open elsewhere cannot stall every stream. Those still open then are given up
   * (warned about once, not waited for again): what they commit later is sent late, below ids
   * already sent, and a client that was away at that moment and reconnects with a Last-Event-ID
   * above it is never replayed it.
   */
  private async awaitOpenTransactions(): Promise<void> {
    const open = new Set(await this.events.openTransactions());
    for (const xid of this.overdue) if (!open.has(xid)) this.overdue.delete(xid);
    let waiting = [...open].filter((xid) => !this.overdue.has(xid));
    const since = Date.now();
    const deadline = since + this.config.live.sseOrderWaitMs;
    while (waiting.length && !this.closing) {
      if (Date.now() >= deadline) {
        for (const xid of waiting) this.overdue.add(xid);
        this.logger.warn(
          { transactions: waiting, waitedMs: Date.now() - since },
          'Transactions open longer than SSE_ORDER_WAIT_MS: newer events are sent without waiting for theirs',
        );
        return;
      }
      await this.pause(Math.min(POLL_MS, deadline - Date.now()));
      waiting = await this.events.stillOpen(waiting);
    }
  }

  /** A pause that a notification ends early. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async newestId(): Promise<string> {
    const rows: Array<{ id: string | null }> = await this.dataSource.query('SELECT max(id)::text AS id FROM event');
    return rows[0].id ?? '0';
  }

  /** One read at a time, in order: events reach each stream in the order they were announced. */
  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain
      .then(work)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'Could not read announced events'));
  }
}

/**
 * Node keeps the header block it sent (`_header`) for as long as the response is open: built by
 * concatenation, it is some 80 small strings, a quarter of the memory of an idle stream. V8
 * flattens a string in place when it converts it to a number, which leaves one string instead.
 */
function flattenSentHeaders(res: ServerResponse): void {
  const sent = (res as unknown as { _header?: unknown })._header;
  if (typeof sent === 'string') void Number(sent);
}
