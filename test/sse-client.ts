import { ClientRequest, IncomingMessage, request } from 'node:http';

export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/**
 * A Server-Sent Events client as a browser's EventSource behaves (without its automatic
 * reconnection, which the tests do by hand with Last-Event-ID): every event and comment it reads.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers: IncomingMessage['headers'] = {};
  ended = false;
  private buffer = '';
  private req?: ClientRequest;
  private res?: IncomingMessage;
  private waiters: Array<() => void> = [];

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    return client.connect(url, headers).then(() => client);
  }

  private connect(url: string, headers: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.feed(chunk));
        res.on('end', () => {
          this.ended = true;
          this.wake();
        });
        res.on('close', () => {
          this.ended = true;
          this.wake();
        });
        resolve();
      });
      this.req.on('error', (error) => (this.status ? undefined : reject(error)));
      this.req.end();
    });
  }

  /** The body of a refused request (a JSON error), once it has ended. */
  async body(): Promise<unknown> {
    await this.until(() => this.ended);
    return JSON.parse(this.buffer);
  }

  /** Waits until `count` events match `predicate`. */
  async waitFor(predicate: (event: SseEvent) => boolean, count = 1, timeoutMs = 5000): Promise<SseEvent[]> {
    await this.until(() => this.events.filter(predicate).length >= count, timeoutMs);
    return this.events.filter(predicate);
  }

  async until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(
          `SSE: timed out; events so far: ${JSON.stringify(this.events.map((e) => `${e.id} ${e.event}`))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.res?.destroy();
    this.req?.destroy();
  }

  get lastEventId(): string | undefined {
    return [...this.events].reverse().find((e) => e.id !== undefined)?.id;
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    if (!String(this.headers['content-type']).startsWith('text/event-stream')) return;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = {};
      let isEvent = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1));
        const match = /^(id|event|data): ?(.*)$/.exec(line);
        if (match) {
          isEvent = true;
          const field = match[1] as keyof SseEvent;
          event[field] = field === 'data' && event.data !== undefined ? `${event.data}\n${match[2]}` : match[2];
        }
      }
      if (isEvent) this.events.push(event);
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
