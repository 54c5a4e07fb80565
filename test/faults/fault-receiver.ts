import { createServer, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * How the receiver answers a call once its body is in:
 * - `accept`: `200` after `delayMs`, plus up to `jitterMs` at random (a slow receiver keeps calls in
 *   flight, and the jitter spreads their answers, so at any moment some calls are just begun);
 * - `status`: that status at once (e.g. `503`, a receiver that is up but failing).
 * Stopping the receiver (`stop()`) closes the port and cuts every open connection.
 */
export type ReceiverMode = { kind: 'accept'; delayMs?: number; jitterMs?: number } | { kind: 'status'; status: number };

export interface WebhookCall {
  webhookId: string;
  type: string;
  /** The event this call is about: type and resource (a mail, or one receiver's delivery of a mail). */
  eventKey: string;
  /** The status the receiver answered (0: none, the caller had hung up or the receiver stopped first). */
  status: number;
  /** The answer was a 2xx written on a connection still open: the caller could learn the call succeeded. */
  acknowledged: boolean;
  at: number;
}

/** The event a body is about: `mail.delivery.sent:<mail id>:<receiver>`, else `<type>:<id>` (a mail's id for `mail.*`). */
export function eventKey(type: string, data: Record<string, unknown> | undefined): string {
  const d = data ?? {};
  // `data` of mail.* is the mail (`id`), of mail.delivery.* the delivery with its `mailId`; a mail the
  // worker could not read is sent as the ids it holds (`mailId`, `receiverId`).
  const id = String(d.mailId ?? d.id ?? '');
  return type.startsWith('mail.delivery.') ? `${type}:${id}:${String(d.receiverId ?? '')}` : `${type}:${id}`;
}

/**
 * A controllable webhook receiver on 127.0.0.1 for the fault tests (the e2e one, test/webhook-receiver.ts,
 * answers at once and cannot go slow or away). Every call whose body arrived is kept with its
 * `webhook-id`, its event and how it was answered; signatures are not checked here (the e2e specs do).
 */
export class FaultReceiver {
  readonly calls: WebhookCall[] = [];
  mode: ReceiverMode = { kind: 'accept' };
  /** Calls whose body is in and whose answer is still pending. */
  open = 0;
  /** Called right after a 2xx was written (same tick), with the number of calls acknowledged so far. */
  afterAcknowledge?: (count: number) => void;
  port = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private acknowledgedCount = 0;

  async start(port = this.port): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        let json: { type?: string; data?: Record<string, unknown> } = {};
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof json;
        } catch {
          // Counted under an empty key: it shows up as an unknown event.
        }
        const type = json.type ?? '';
        const call: WebhookCall = {
          webhookId: String(req.headers['webhook-id'] ?? ''),
          type,
          eventKey: eventKey(type, json.data),
          status: 0,
          acknowledged: false,
          at: Date.now(),
        };
        this.calls.push(call);
        const mode = this.mode;
        const answer = (status: number): void => {
          this.open--;
          // The caller is gone (killed, or gave up): this answer reaches nobody.
          if (res.destroyed || req.socket.destroyed) return;
          call.status = status;
          res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'unavailable');
          if (status >= 200 && status < 300) {
            call.acknowledged = true;
            this.afterAcknowledge?.(++this.acknowledgedCount);
          }
        };
        this.open++;
        if (mode.kind === 'status') answer(mode.status);
        else if (mode.delayMs || mode.jitterMs)
          this.later((mode.delayMs ?? 0) + Math.random() * (mode.jitterMs ?? 0), () => answer(200));
        else answer(200);
      });
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** The receiver goes away: the port is closed, open connections are cut and pending answers never sent. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Stops the receiver and forgets pending answers, for the end of a test. */
  async dispose(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.stop();
  }

  url(path = '/hooks'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Distinct events acknowledged (a 2xx that reached the caller) so far. */
  acknowledgedEvents(): number {
    return new Set(this.calls.filter((c) => c.acknowledged).map((c) => c.eventKey)).size;
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }
}

export interface WebhookTally {
  expected: number;
  /** Calls received (bodies in), those acknowledged, and those whose caller was gone before the answer. */
  calls: number;
  acknowledged: number;
  cut: number;
  /** Expected events with no acknowledged call. */
  lost: number;
  /** Calls beyond the first of their `webhook-id` (any answer). */
  duplicates: number;
  /** Acknowledged calls beyond the first of their `webhook-id`: the receiver had to drop them. */
  acknowledgedDuplicates: number;
  /** Events received under more than one `webhook-id`: a duplicate a receiver could not recognise. */
  eventsWithSeveralIds: number;
  /** Events received that are none of the expected ones. */
  unknownEvents: number;
  /** A few events received under several ids, for the report. */
  severalIds: string[];
}

/** What the receiver got, against the events that should have reached it. */
export function tallyCalls(receiver: FaultReceiver, expectedKeys: string[]): WebhookTally {
  const expected = new Set(expectedKeys);
  const acknowledged = receiver.calls.filter((c) => c.acknowledged);
  const idsByEvent = new Map<string, Set<string>>();
  for (const call of receiver.calls)
    idsByEvent.set(call.eventKey, (idsByEvent.get(call.eventKey) ?? new Set()).add(call.webhookId));
  const extra = (calls: WebhookCall[]): number => calls.length - new Set(calls.map((c) => c.webhookId)).size;
  const ackedEvents = new Set(acknowledged.map((c) => c.eventKey));
  const several = [...idsByEvent].filter(([, ids]) => ids.size > 1);
  return {
    expected: expected.size,
    calls: receiver.calls.length,
    acknowledged: acknowledged.length,
    cut: receiver.calls.filter((c) => c.status === 0).length,
    lost: [...expected].filter((key) => !ackedEvents.has(key)).length,
    duplicates: extra(receiver.calls),
    acknowledgedDuplicates: extra(acknowledged),
    eventsWithSeveralIds: several.length,
    unknownEvents: [...idsByEvent.keys()].filter((key) => !expected.has(key)).length,
    severalIds: several.slice(0, 3).map(([key, ids]) => `${key} as ${[...ids].join(' and ')}`),
  };
}

export function describeCalls(t: WebhookTally): string {
  return (
    `${t.expected} events, ${t.calls} calls received, ${t.acknowledged} acknowledged (2xx), ${t.cut} cut before their answer, ${t.lost} lost, ` +
    `${t.duplicates} duplicates (same webhook-id; ${t.acknowledgedDuplicates} of them acknowledged), ` +
    `${t.eventsWithSeveralIds} events under several webhook-ids, ${t.unknownEvents} unknown events` +
    (t.severalIds.length ? ` [${t.severalIds.join('; ')}]` : '')
  );
}
