import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { isAbsolute, join, relative } from 'node:path';
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
 *
 * Given a directory (the local start passes `.data/inbox`), each mail is also written there as
 * `<id>.eml` and read back at the next start, so a restart keeps what was received; the tests
 * keep everything in memory.
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

  constructor(
    private readonly host = '127.0.0.1',
    private readonly storeDir?: string,
  ) {}

  /** Starts the SMTP server (and the web page when `webPort` is given; 0 picks a free port). */
  async start(smtpPort = 0, webPort?: number): Promise<void> {
    await this.load();
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

  /** The mails a previous run kept in `storeDir`, oldest first. */
  private async load(): Promise<void> {
    if (!this.storeDir) return;
    mkdirSync(this.storeDir, { recursive: true });
    const { simpleParser } = await import('mailparser');
    const files = readdirSync(this.storeDir)
      .map((name) => /^(\d+)\.eml$/.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b)
      .slice(-KEPT);
    for (const id of files) {
      const raw = readFileSync(join(this.storeDir, `${id}.eml`), 'utf8');
      const [meta, source] = splitStored(raw);
      this.messages.push({
        id,
        receivedAt: new Date(meta.receivedAt),
        envelopeFrom: meta.envelopeFrom,
        envelopeTo: meta.envelopeTo,
        raw: source,
        parsed: await simpleParser(source),
      });
      this.nextId = id + 1;
    }
  }

  private keep(mail: ReceivedMail): void {
    this.messages.push(mail);
    if (this.storeDir) {
      const meta = {
        receivedAt: mail.receivedAt.toISOString(),
        envelopeFrom: mail.envelopeFrom,
        envelopeTo: mail.envelopeTo,
      };
      writeFileSync(join(this.storeDir, `${mail.id}.eml`), `X-Inbox-Envelope: ${JSON.stringify(meta)}\r\n${mail.raw}`);
    }
    if (this.messages.length > KEPT) {
      const dropped = this.messages.shift()!;
      if (this.storeDir) unlinkSync(join(this.storeDir, `${dropped.id}.eml`));
    }
  }

  private async listenSmtp(port: number): Promise<void> {
    const { SMTPServer } = await import('smtp-server');
    const { simpleParser } = await import('mailparser');
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // smtp-server otherwise holds each greeting up to 1.6 s for a reverse DNS look-up of the client.
      disableReverseLookup: true,
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
              this.keep({
                id: this.nextId++,
                receivedAt: new Date(),
                envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                envelopeTo: session.envelope.rcptTo.map((r) => r.address),
                raw,
                parsed,
              });
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
    const match = /^\/messages\/(\d+)(\.txt|\.eml)?$/.exec(req.url ?? '/');
    if (match) {
      const mail = this.messages.find((m) => m.id === Number(match[1]));
      if (!mail) return void res.writeHead(404).end('Not found');
      const plain = { 'content-type': 'text/plain; charset=utf-8' };
      if (match[2] === '.txt') return void res.writeHead(200, plain).end(mail.parsed.text ?? '');
      if (match[2] === '.eml') return void res.writeHead(200, plain).end(mail.raw);
      // The mail's own HTML, sandboxed: no script of a received mail runs on this page.
      return void res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        })
        .end(typeof mail.parsed.html === 'string' ? mail.parsed.html : `<pre>${escape(mail.parsed.text ?? '')}</pre>`);
    }
    if (req.url === '/api/messages') {
      const list = [...this.messages]
        .reverse()
        .map((m) => ({
          id: m.id,
          receivedAt: m.receivedAt,
          from: m.parsed.from?.text,
          to: m.envelopeTo,
          subject: m.parsed.subject,
        }));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list));
    }
    const kept = this.storeDir ? `kept in ${escape(projectPath(this.storeDir))} across restarts` : 'kept in memory';
    // The list refreshes itself every 5 s without reloading the page: the mail being read stays open.
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-src 'self'",
    }).end(`<!doctype html><html><head><meta charset="utf-8"><title>Inbox — communication</title>
<style>body{font-family:sans-serif;margin:1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem}iframe{width:100%;height:60vh;border:1px solid #ccc}tr.open{background:#eef6f5}</style></head>
<body><h1>Inbox</h1><p><span id="count">0</span> mail(s) received by the embedded SMTP server on port ${this.smtpPort} (newest first, ${kept}).</p>
<table><thead><tr><th>Received</th><th>To</th><th>Subject</th><th>Parts</th></tr></thead><tbody id="rows"></tbody></table>
<iframe name="view" id="view" title="Selected mail"></iframe>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
let open = null, shown = '';
async function refresh() {
  const list = await (await fetch('/api/messages')).json();
  const html = list.map((m) => '<tr data-id="' + m.id + '"' + (m.id === open ? ' class="open"' : '') + '><td>' + esc(new Date(m.receivedAt).toLocaleString()) + '</td><td>' + esc(m.to.join(', ')) +
    '</td><td><a href="/messages/' + m.id + '" target="view">' + esc(m.subject || '(no subject)') + '</a></td><td><a href="/messages/' + m.id + '" target="view">HTML</a> · <a href="/messages/' + m.id +
    '.txt" target="view">text</a> · <a href="/messages/' + m.id + '.eml" target="view">source</a></td></tr>').join('') || '<tr><td colspan="4">Nothing yet: post a mail to /v1/mails.</td></tr>';
  if (html !== shown) { document.getElementById('rows').innerHTML = shown = html; }
  document.getElementById('count').textContent = list.length;
}
document.getElementById('rows').addEventListener('click', (e) => { const row = e.target.closest('tr[data-id]'); if (row) { open = Number(row.dataset.id); shown = ''; refresh(); } });
refresh(); setInterval(refresh, 5000);
</script></body></html>`);
  }
}

/** A stored mail: one line of envelope (what SMTP said, not in the headers), then the raw source. */
function splitStored(stored: string): [{ receivedAt: string; envelopeFrom: string; envelopeTo: string[] }, string] {
  const match = /^X-Inbox-Envelope: (.*)\r\n/.exec(stored);
  if (!match) return [{ receivedAt: new Date(0).toISOString(), envelopeFrom: '', envelopeTo: [] }, stored];
  return [JSON.parse(match[1]), stored.slice(match[0].length)];
}

/** A path relative to the project (the working directory of `npm start`) when inside it: no machine's layout on the page. */
function projectPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : path;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
