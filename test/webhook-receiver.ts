import { createHmac } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
}

/**
 * A real HTTP receiver on 127.0.0.1 for the webhook specs: keeps every call, answers what
 * `answer` says (200 by default).
 */
export class WebhookReceiver {
  readonly calls: ReceivedCall[] = [];
  answer: (call: ReceivedCall) => number = () => 200;
  private server?: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const call = { path: req.url ?? '', headers: req.headers, body, json: JSON.parse(body) as ReceivedCall['json'] };
        this.calls.push(call);
        res.writeHead(this.answer(call), { 'content-type': 'text/plain' }).end(`received ${call.json.type}`);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path = '/hooks'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Calls received on `path` so far, waiting up to `timeoutMs` for `count` of them. */
  async waitFor(count: number, predicate: (call: ReceivedCall) => boolean = () => true, timeoutMs = 20_000): Promise<ReceivedCall[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.calls.filter(predicate);
      if (found.length >= count) return found;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${count} webhook call(s); ${found.length} received: ${found.map((c) => c.json.type).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** What the README tells receivers to do: recompute the signature with the secret and compare. */
export function verifySignature(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = headers['webhook-id'] as string;
  const timestamp = headers['webhook-timestamp'] as string;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return (headers['webhook-signature'] as string).split(' ').some((signature) => signature === `v1,${expected}`);
}
