import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ParsedMail } from 'mailparser';
import type { SMTPServer, SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  id: number;
  receivedAt: Date;
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  parsed: ParsedMail;
}

/** What the inbox answers to RCPT TO, for tests that need a refusal: e.g. `{code: 550, message: 'No such user'}`. */
export type RecipientPolicy = (address: string) => { code: number; message: string } | undefined;

const KEPT = 500;

/**
 * A real SMTP server that keeps what it receives, with a small web page to read it: the local
 * default when SMTP_URL is unset, and the SMTP server of the tests. Built on `smtp-server` and
 * `mailparser` (dev dependencies), so it never runs in production.
 */
export class SmtpInbox {
  readonly messages: ReceivedMail[] = [];
  recipientPolicy: RecipientPolicy = () => undefined;
  /** What the inbox answers at the end of DATA, given the envelope's recipients (a refusal of the message itself). */
  dataPolicy: (recipients: string[]) => { code: number; message: string } | undefined = () => undefined;
  private smtp?: SMTPServer;
  private web?: Server;
  private nextId = 1;
  private waiters: Array<() => void> = [];
  smtpPort = 0;
  webPort = 0;

  constructor(private readonly host = '127.0.0.1') {}

  /** Starts the SMTP server (and the web page when `webPort` is given; 0 picks a free port). */
  async start(smtpPort = 0, webPort?: number): Promise<void> {
    await this.listenSmtp(smtpPort);
    if (webPort !== undefined) {
      this.web = createServer((req, res) => this.page(req, res));
      await new Promise<void>((resolve) => this.web!.listen(webPort, this.host, resolve));
      this.webPort = (this.web.address() as AddressInfo).port;
    }
  }

  /** Stops accepting SMTP connections (a client then gets "connection refused"); `resume()` listens again on the same port. */
  async pause(): Promise<void> {
    const smtp = this.smtp;
    this.smtp = undefined;
    if (smtp) await new Promise<void>((resolve) => smtp.close(() => resolve()));
  }

  resume(): Promise<void> {
    return this.listenSmtp(this.smtpPort);
  }

  async stop(): Promise<void> {
    await this.pause();
    if (this.web) await new Promise<void>((resolve) => this.web!.close(() => resolve()));
  }

  get smtpUrl(): string {
    return `smtp://${this.host}:${this.smtpPort}`;
  }

  get webUrl(): string {
    return `http://localhost:${this.webPort}`;
  }

  /** Mails received so far whose envelope or headers match `predicate`, waiting up to `timeoutMs` for `count` of them. */
  async waitFor(predicate: (mail: ReceivedMail) => boolean, count = 1, timeoutMs = 15_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.filter(predicate);
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${count} mail(s); ${found.length} received`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async listenSmtp(port: number): Promise<void> {
    const { SMTPServer } = await import('smtp-server');
    const { simpleParser } = await import('mailparser');
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: 10 * 1024 * 1024,
      onRcptTo: (address: SMTPServerAddress, _session, callback) => {
        const refusal = this.recipientPolicy(address.address);
        if (!refusal) return callback();
        const error = new Error(refusal.message) as Error & { responseCode: number };
        error.responseCode = refusal.code;
        callback(error);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const refusal = this.dataPolicy(session.envelope.rcptTo.map((r) => r.address));
          if (refusal) return callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw)
            .then((parsed) => {
              this.messages.push({
                id: this.nextId++,
                receivedAt: new Date(),
                envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                envelopeTo: session.envelope.rcptTo.map((r) => r.address),
                raw,
                parsed,
              });
              if (this.messages.length > KEPT) this.messages.shift();
              this.waiters.splice(0).forEach((wake) => wake());
              callback();
            })
            .catch((error: Error) => callback(error));
        });
      },
    });
    smtp.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      smtp.server.once('error', reject);
      smtp.listen(port, this.host, () => resolve());
    });
    this.smtp = smtp;
    this.smtpPort = (smtp.server.address() as AddressInfo).port;
  }

  private page(req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/messages\/(\d+)(\.txt)?$/.exec(req.url ?? '/');
    if (match) {
      const mail = this.messages.find((m) => m.id === Number(match[1]));
      if (!mail) return void res.writeHead(404).end('Not found');
      if (match[2]) return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(mail.parsed.text ?? '');
      // The mail's own HTML, sandboxed: no script of a received mail runs on this page.
      return void res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:" })
        .end(typeof mail.parsed.html === 'string' ? mail.parsed.html : `<pre>${escape(mail.parsed.text ?? '')}</pre>`);
    }
    if (req.url === '/api/messages') {
      const list = this.messages.map((m) => ({ id: m.id, receivedAt: m.receivedAt, from: m.parsed.from?.text, to: m.envelopeTo, subject: m.parsed.subject }));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list));
    }
    const rows = [...this.messages]
      .reverse()
      .map(
        (m) =>
          `<tr><td>${m.receivedAt.toISOString()}</td><td>${escape(m.envelopeTo.join(', '))}</td><td><a href="/messages/${m.id}" target="view">${escape(m.parsed.subject ?? '(no subject)')}</a></td>` +
          `<td><a href="/messages/${m.id}.txt" target="view">text</a></td></tr>`,
      )
      .join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><head><meta charset="utf-8"><title>Inbox — communication</title>
<meta http-equiv="refresh" content="10"><style>body{font-family:sans-serif;margin:1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem}iframe{width:100%;height:60vh;border:1px solid #ccc}</style></head>
<body><h1>Inbox</h1><p>${this.messages.length} mail(s) received by the embedded SMTP server on port ${this.smtpPort} (kept in memory, newest first). The page refreshes every 10 s.</p>
<table><tr><th>Received</th><th>To</th><th>Subject</th><th></th></tr>${rows || '<tr><td colspan="4">Nothing yet: post a mail to /v1/mails.</td></tr>'}</table>
<iframe name="view" title="Selected mail"></iframe></body></html>`);
  }
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
