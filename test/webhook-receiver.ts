import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  /** The status to answer, or null to never answer (a stalled endpoint; its requests are dropped by stop()). */
  answer: (call: ReceivedCall) => number | null = () => 200;
  private server?: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const call = {
          path: req.url ?? '',
          headers: req.headers,
          body,
          json: JSON.parse(body) as ReceivedCall['json'],
        };
        this.calls.push(call);
        const status = this.answer(call);
        if (status !== null) res.writeHead(status, { 'content-type': 'text/plain' }).end(`received ${call.json.type}`);
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
  async waitFor(
    count: number,
    predicate: (call: ReceivedCall) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<ReceivedCall[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.calls.filter(predicate);
      if (found.length >= count) return found;
      if (Date.now() > deadline)
        throw new Error(
          `Timed out waiting for ${count} webhook call(s); ${found.length} received: ${found.map((c) => c.json.type).join(', ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * The README's own snippet ("Verify a call"), run as written: the specs check signatures exactly as
 * a receiver following the README would, and a broken snippet fails them.
 */
export const verifySignature: (secret: string, headers: IncomingHttpHeaders, body: string) => boolean = (() => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const code = /Verify a call[^]*?```js\n([^]*?)```/.exec(readme)?.[1];
  if (!code) throw new Error('README.md has no "Verify a call" snippet');
  return new Function('require', `${code}\nreturn verify;`)(require) as (
    secret: string,
    headers: IncomingHttpHeaders,
    body: string,
  ) => boolean;
})();
