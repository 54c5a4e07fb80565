import type { AddressInfo, Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

/**
 * How the relay answers a message once its DATA is in:
 * - `accept`: `250` after `delayMs` (a slow-ish relay keeps a few sends in flight);
 * - `tempfail` / `reject`: `451` / `554` to the message;
 * - `stall`: no answer for `seconds`, then `250` if the client is still connected;
 * - `refuse`: a `421` greeting after `holdMs` (a relay that turns connections away), no message taken.
 * Stopping the relay (`stop()`) closes the port and cuts every open connection.
 */
export type RelayMode =
  | { kind: 'accept'; delayMs?: number }
  | { kind: 'tempfail' }
  | { kind: 'reject' }
  | { kind: 'stall'; seconds: number }
  | { kind: 'refuse'; holdMs: number };

export interface ReceivedCopy {
  messageId: string;
  mailId: string;
  to: string[];
  at: number;
}

/**
 * A controllable SMTP relay on 127.0.0.1 for the fault tests. A message counts as received only
 * when the relay answers `250` on a connection that is still open, as a real relay commits a
 * message: a client that gave up (timeout, crash) before the answer did not deliver it.
 */
export class FaultRelay {
  readonly received: ReceivedCopy[] = [];
  mode: RelayMode = { kind: 'accept' };
  /** Messages whose DATA is in and whose answer is still pending. */
  inFlight = 0;
  /**
   * Called right after the relay has written its `250` for a message (in the same tick): a test can
   * kill the sender there, inside the window between the relay's acceptance and the sender's record of it.
   */
  afterAccept?: (count: number) => void;
  /** Answers other than 250 given so far, by code. */
  readonly refusals = new Map<number, number>();
  port = 0;
  private server?: SMTPServer;
  private readonly sockets = new Set<Socket>();
  private readonly closedSessions = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Incremented by each stop: a message that arrived before a stop is never accepted after it. */
  private generation = 0;

  async start(port = this.port): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // smtp-server otherwise holds each greeting up to 1.6 s for a reverse DNS look-up of the client.
      disableReverseLookup: true,
      closeTimeout: 100,
      size: 10 * 1024 * 1024,
      onConnect: (_session, callback) => {
        const mode = this.mode;
        if (mode.kind !== 'refuse') return callback();
        this.later(mode.holdMs, () => {
          this.refusals.set(421, (this.refusals.get(421) ?? 0) + 1);
          callback(smtpError(421, 'Service not available, closing transmission channel'));
        });
      },
      onData: (stream, session, callback) => this.onData(stream, session, callback),
      onClose: (session) => {
        this.closedSessions.add(session.id);
      },
    });
    server.on('error', () => undefined);
    server.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
  }

  /**
   * The relay goes away: the port is closed and every connection is closed. Answers already written
   * still reach the client (the socket is ended, not reset: a reset would make the client's kernel
   * drop a `250` it has not read yet, and the copy would go twice for a reason outside the service);
   * messages still waiting for their answer are never answered nor counted.
   */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    this.generation++;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) {
      socket.end();
      // A client that does not close its side within 1 s is cut.
      setTimeout(() => socket.destroy(), 1000).unref();
    }
    await closed;
  }

  /** Stops the relay and forgets pending timers, for the end of a test. */
  async dispose(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.stop();
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Copies received per Message-ID. */
  countsByMessageId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const copy of this.received) counts.set(copy.messageId, (counts.get(copy.messageId) ?? 0) + 1);
    return counts;
  }

  /** Copies beyond the first of each Message-ID. */
  duplicates(): number {
    return this.received.length - this.countsByMessageId().size;
  }

  /** Distinct Message-IDs received for each copy (X-Mail-Id and recipient): a duplicate under a new Message-ID would show as 2. */
  messageIdsByCopy(): Map<string, Set<string>> {
    const ids = new Map<string, Set<string>>();
    for (const copy of this.received) {
      const key = `${copy.mailId} ${copy.to.join(',')}`;
      const set = ids.get(key) ?? new Set<string>();
      set.add(copy.messageId);
      ids.set(key, set);
    }
    return ids;
  }

  async waitForReceived(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline)
        throw new Error(`Relay received ${this.received.length} of ${count} messages in ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  private onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (error?: Error | null, message?: string) => void,
  ): void {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const mode = this.mode;
      const generation = this.generation;
      this.inFlight++;
      const answer = (error: (Error & { responseCode?: number }) | null): void => {
        this.inFlight--;
        if (error) this.refusals.set(error.responseCode ?? 0, (this.refusals.get(error.responseCode ?? 0) ?? 0) + 1);
        callback(error);
      };
      const accept = (): void => {
        void this.parse(Buffer.concat(chunks), session)
          .then((copy) => {
            // The client hung up before our 250 (or the relay went away meanwhile): a real relay would not deliver this copy either.
            // Checked after the parse, in the same tick as the answer, so a stop during the parse cannot slip a copy in.
            if (this.closedSessions.has(session.id) || generation !== this.generation)
              return answer(smtpError(421, 'Client went away'));
            this.received.push(copy);
            answer(null);
            this.afterAccept?.(this.received.length);
          })
          .catch((error: Error) => answer(smtpError(451, error.message)));
      };
      switch (mode.kind) {
        case 'accept':
          return mode.delayMs ? this.later(mode.delayMs, accept) : accept();
        case 'tempfail':
          return answer(smtpError(451, 'Try again later'));
        case 'reject':
          return answer(smtpError(554, 'Message refused'));
        case 'stall':
          return this.later(mode.seconds * 1000, accept);
        case 'refuse':
          return answer(smtpError(421, 'Service not available'));
      }
    });
  }

  private async parse(raw: Buffer, session: SMTPServerSession): Promise<ReceivedCopy> {
    const parsed = await simpleParser(raw, {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
    });
    const mailId = parsed.headers.get('x-mail-id');
    return {
      messageId: parsed.messageId ?? '',
      mailId: typeof mailId === 'string' ? mailId : '',
      to: session.envelope.rcptTo.map((r) => r.address),
      at: Date.now(),
    };
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
