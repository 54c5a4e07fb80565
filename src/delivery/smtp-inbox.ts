import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { isAbsolute, join, relative } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { AddressObject, EmailAddress, ParsedMail } from 'mailparser';
import { createTransport } from 'nodemailer';
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

/** Where the page sends the answers written on it: the service's inbound SMTP listener (contract A2). */
export interface ReplyRelay {
  host: string;
  port: number;
}

export interface SmtpInboxOptions {
  /**
   * The inbound listener the "Reply / Répondre" form sends to: an address, or a function read at
   * each reply (the local start reads the service's configuration then). Unset or `undefined`:
   * the form says that no listener is known instead of sending.
   */
  replyRelay?: ReplyRelay | (() => ReplyRelay | undefined);
}

const KEPT = 500;
/** The largest form body the reply form accepts (413 beyond), and the longest answer in it. */
const REPLY_FORM_MAX_BYTES = 128 * 1024;
const REPLY_MAX_CHARS = 20_000;

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
  /** Put in the reply form and required back: another site cannot read it, so cannot post the form. */
  private readonly formToken = randomBytes(24).toString('hex');
  /** The answers sent from the page, by mail id, shown on that mail's page. */
  private readonly replies = new Map<number, Array<{ sentAt: Date; to: string; messageId: string }>>();
  smtpPort = 0;
  webPort = 0;

  constructor(
    private readonly host = '127.0.0.1',
    private readonly storeDir?: string,
    private readonly options: SmtpInboxOptions = {},
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
    const url = new URL(req.url ?? '/', 'http://inbox');
    const reply = /^\/messages\/(\d+)\/reply$/.exec(url.pathname);
    if (reply) {
      if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end('Method not allowed');
      return void this.reply(req, res, Number(reply[1])).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`The reply could not be handled: ${error.message}`);
      });
    }
    const view = /^\/messages\/(\d+)\/view$/.exec(url.pathname);
    if (view) {
      const mail = this.messages.find((m) => m.id === Number(view[1]));
      if (!mail) return void res.writeHead(404).end('Not found');
      const notice: Notice | undefined = url.searchParams.has('sent')
        ? { kind: 'sent', text: `Reply sent to ${addressText(addresses(mail.parsed.replyTo))}.` }
        : undefined;
      return this.mailPage(res, 200, mail, notice);
    }
    const match = /^\/messages\/(\d+)(\.txt|\.eml)?$/.exec(url.pathname);
    if (match) {
      const mail = this.messages.find((m) => m.id === Number(match[1]));
      if (!mail) return void res.writeHead(404).end('Not found');
      const plain = { 'content-type': 'text/plain; charset=utf-8' };
      if (match[2] === '.txt') return void res.writeHead(200, plain).end(mail.parsed.text ?? '');
      if (match[2] === '.eml') return void res.writeHead(200, plain).end(mail.raw);
      // The mail's own HTML, sandboxed: no script of a received mail runs on this page. Its links open
      // in a tab of their own, as in a mail client (a link followed inside the frame of the mail page
      // would be refused by that page's frame-src): the button, the help page, the unsubscribe page
      // of a subscription mail (contract A3), which then works as it would from any mailbox.
      return void res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy':
            "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        })
        .end(
          typeof mail.parsed.html === 'string'
            ? linksInNewTab(mail.parsed.html)
            : `<pre>${escape(mail.parsed.text ?? '')}</pre>`,
        );
    }
    if (url.pathname === '/api/messages') {
      const list = [...this.messages].reverse().map((m) => ({
        id: m.id,
        receivedAt: m.receivedAt,
        from: m.parsed.from?.text,
        to: m.envelopeTo,
        replyTo: m.parsed.replyTo?.text,
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
<style>${STYLE}</style></head>
<body><h1>Inbox</h1><p><span id="count">0</span> mail(s) received by the embedded SMTP server on port ${this.smtpPort} (newest first, ${kept}).</p>
<table><thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th><th>Reply-To</th><th>Parts</th></tr></thead><tbody id="rows"></tbody></table>
<iframe name="view" id="view" title="Selected mail"></iframe>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
let open = null, shown = '';
async function refresh() {
  const list = await (await fetch('/api/messages')).json();
  const html = list.map((m) => '<tr data-id="' + m.id + '"' + (m.id === open ? ' class="open"' : '') + '><td>' + esc(new Date(m.receivedAt).toLocaleString()) + '</td><td>' + esc(m.from) + '</td><td>' + esc(m.to.join(', ')) +
    '</td><td><a href="/messages/' + m.id + '/view" target="view">' + esc(m.subject || '(no subject)') + '</a></td><td>' + esc(m.replyTo) + '</td><td><a href="/messages/' + m.id + '/view" target="view">' + (m.replyTo ? 'reply' : 'mail') + '</a> · <a href="/messages/' + m.id + '" target="view">HTML</a> · <a href="/messages/' + m.id +
    '.txt" target="view">text</a> · <a href="/messages/' + m.id + '.eml" target="view">source</a></td></tr>').join('') || '<tr><td colspan="6">Nothing yet: post a mail to /v1/mails.</td></tr>';
  if (html !== shown) { document.getElementById('rows').innerHTML = shown = html; }
  document.getElementById('count').textContent = list.length;
}
document.getElementById('rows').addEventListener('click', (e) => { const row = e.target.closest('tr[data-id]'); if (row) { open = Number(row.dataset.id); shown = ''; refresh(); } });
refresh(); setInterval(refresh, 5000);
</script></body></html>`);
  }

  /**
   * A mail's own page: its headers (Reply-To among them), its body (the sandboxed HTML), and when
   * it has a Reply-To, a plain form to answer it. No script: the form is an HTML form POST.
   */
  private mailPage(res: ServerResponse, status: number, mail: ReceivedMail, notice?: Notice, draft = ''): void {
    const { parsed } = mail;
    const replyTo = addresses(parsed.replyTo);
    const from = answerer(mail);
    const rows: Array<[string, string | undefined]> = [
      ['From', parsed.from ? addressText(addresses(parsed.from)) : undefined],
      ['To', parsed.to ? addressText(addresses(parsed.to)) : mail.envelopeTo.join(', ')],
      ['Reply-To', replyTo.length ? addressText(replyTo) : undefined],
      ['Subject', parsed.subject ?? '(no subject)'],
      ['Date', (parsed.date ?? mail.receivedAt).toLocaleString()],
      ['Message-ID', parsed.messageId],
    ];
    const sent = this.replies.get(mail.id) ?? [];
    const form = replyTo.length
      ? `<form method="post" action="/messages/${mail.id}/reply">
<fieldset><legend>Reply / Répondre</legend>
<p>As ${escape(from ? addressText([from]) : '(unknown)')}, to ${escape(addressText(replyTo))}: sent over SMTP to the service's inbound listener.</p>
<input type="hidden" name="token" value="${this.formToken}">
<label for="reply-text">Your answer / Votre réponse</label>
<textarea id="reply-text" name="text" rows="6" maxlength="${REPLY_MAX_CHARS}" required>${escape(draft)}</textarea>
<button type="submit">Send / Envoyer</button>
</fieldset></form>`
      : '';
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      // No script at all; the form posts only here; no other site frames this page.
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    })
      .end(`<!doctype html><html><head><meta charset="utf-8"><title>${escape(parsed.subject ?? '(no subject)')} — Inbox</title>
<style>${STYLE}</style></head>
<body>${notice ? `<p class="notice ${notice.kind}" role="${notice.kind === 'sent' ? 'status' : 'alert'}">${escape(notice.text)}</p>` : ''}
<dl>${rows
      .filter((row): row is [string, string] => row[1] !== undefined)
      .map(([name, value]) => `<dt>${name}</dt><dd>${escape(value)}</dd>`)
      .join('')}</dl>
<p><a href="/messages/${mail.id}">HTML</a> · <a href="/messages/${mail.id}.txt">text</a> · <a href="/messages/${mail.id}.eml">source</a></p>
<iframe class="body" src="/messages/${mail.id}" title="Body of the mail"></iframe>
${form}
${sent.length ? `<h2>Sent from this page</h2><ul>${sent.map((r) => `<li>${escape(r.sentAt.toLocaleString())} to ${escape(r.to)} (${escape(r.messageId)})</li>`).join('')}</ul>` : ''}
</body></html>`);
  }

  /** The reply form posted: checked, then sent as a real SMTP message to the inbound listener. */
  private async reply(req: IncomingMessage, res: ServerResponse, id: number): Promise<void> {
    const refusal = crossSite(req, `${this.host}:${this.webPort}`);
    if (refusal) {
      req.resume();
      return void res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(`Refused: ${refusal}`);
    }
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      req.resume();
      return void res.writeHead(415, { 'content-type': 'text/plain; charset=utf-8' }).end('Expected a form post');
    }
    const body = await readBounded(req, REPLY_FORM_MAX_BYTES);
    if (body === undefined) {
      // The rest of an oversized body is not read: the connection closes once the answer is out.
      res.once('finish', () => req.destroy());
      return void res
        .writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' })
        .end(`Refused: a reply form is at most ${REPLY_FORM_MAX_BYTES} bytes`);
    }
    const form = new URLSearchParams(body);
    if (!sameToken(form.get('token') ?? '', this.formToken)) {
      return void res
        .writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Refused: the form is not one of this inbox (reload the page)');
    }
    const mail = this.messages.find((m) => m.id === id);
    if (!mail) return void res.writeHead(404).end('Not found');
    const text = (form.get('text') ?? '').replace(/\r\n?/g, '\n');
    const fail = (status: number, message: string): void =>
      this.mailPage(res, status, mail, { kind: 'error', text: message }, text);
    if (!addresses(mail.parsed.replyTo).length)
      return fail(400, 'This mail has no Reply-To: there is nobody to answer.');
    if (!text.trim()) return fail(400, 'Write an answer before sending it.');
    if (text.length > REPLY_MAX_CHARS) return fail(413, `An answer is at most ${REPLY_MAX_CHARS} characters.`);
    let relay: ReplyRelay | undefined;
    try {
      relay = typeof this.options.replyRelay === 'function' ? this.options.replyRelay() : this.options.replyRelay;
    } catch (error) {
      return fail(503, `Where the inbound listener is could not be read: ${(error as Error).message}`);
    }
    if (!relay?.port) {
      return fail(503, 'No inbound SMTP listener is known to this inbox (INBOUND_SMTP_PORT): the reply was not sent.');
    }
    const where = `${relay.host}:${relay.port}`;
    const message = replyMessage(mail, text);
    const transport = createTransport({
      host: connectable(relay.host),
      port: relay.port,
      secure: false,
      // A local listener: plain SMTP on loopback, never a certificate to check.
      ignoreTLS: true,
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 15_000,
    });
    try {
      const info = await transport.sendMail(message);
      const list = this.replies.get(id) ?? [];
      list.push({ sentAt: new Date(), to: addressText(addresses(mail.parsed.replyTo)), messageId: info.messageId });
      this.replies.set(id, list);
    } catch (error) {
      return fail(502, sendFailure(error as SmtpError, where));
    } finally {
      transport.close();
    }
    res.writeHead(303, { location: `/messages/${id}/view?sent=1` }).end();
  }
}

type Notice = { kind: 'sent' | 'error'; text: string };
type SmtpError = Error & { code?: string; response?: string; responseCode?: number };

const STYLE =
  'body{font-family:sans-serif;margin:1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem}iframe{width:100%;height:60vh;border:1px solid #ccc}tr.open{background:#eef6f5}' +
  'dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;font-size:.9rem}dt{font-weight:bold}dd{margin:0;overflow-wrap:anywhere}iframe.body{height:35vh}fieldset{border:1px solid #ccc;margin-top:1rem}label{display:block;font-size:.9rem;margin:.3rem 0}textarea{width:100%;box-sizing:border-box;font:inherit}button{margin-top:.4rem}.notice{padding:.4rem;border:1px solid}.sent{background:#eef6f5;border-color:#9cc}.error{background:#fdecea;border-color:#e99}';

/**
 * Why a post of the reply form is refused, if it is: the page is for a person on this machine. A
 * loopback `Host` (or the inbox's own address) keeps a DNS-rebound site out; a browser's
 * `Sec-Fetch-Site` and `Origin` must say the form came from this very page.
 */
function crossSite(req: IncomingMessage, own: string): string | undefined {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!isLoopbackHost(host) && host !== own.toLowerCase()) return `the Host "${host}" is not this inbox`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `a ${site} post (only this page may post the form)`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`)
    return `a post from ${origin} (only this page may post the form)`;
  return undefined;
}

function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(name) || name === '[::1]';
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A request's body up to `max` bytes; undefined beyond (what was read is dropped). */
function readBounded(req: IncomingMessage, max: number): Promise<string | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        resolve(undefined);
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(size > max ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A listener bound to every interface is reached on loopback. */
function connectable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

/** What the page says when the listener did not take the reply. */
function sendFailure(error: SmtpError, where: string): string {
  if (error.responseCode)
    return `The inbound listener at ${where} refused the reply: ${error.response ?? error.message}`;
  if (/ECONNREFUSED/.test(error.message) || error.code === 'ECONNREFUSED') {
    return `No inbound listener answers at ${where} (connection refused): is the service running? The reply was not sent.`;
  }
  return `Sending the reply to the inbound listener at ${where} failed: ${error.message}`;
}

/** The addresses of an address header, groups flattened. */
function addresses(header: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  const flatten = (list: EmailAddress[]): EmailAddress[] =>
    list.flatMap((entry) => (entry.group ? flatten(entry.group) : entry.address ? [entry] : []));
  return (Array.isArray(header) ? header : header ? [header] : []).flatMap((object) => flatten(object.value));
}

function addressText(list: EmailAddress[]): string {
  return list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address!)).join(', ');
}

/**
 * Who answers: the person the mail was sent to. The `To` address this copy was delivered to (its
 * envelope recipient), else the envelope recipient itself (a copy sent as Bcc), else the first `To`.
 */
function answerer(mail: ReceivedMail): EmailAddress | undefined {
  const to = addresses(mail.parsed.to);
  const [envelope] = mail.envelopeTo;
  if (envelope) {
    return to.find((a) => a.address!.toLowerCase() === envelope.toLowerCase()) ?? { name: '', address: envelope };
  }
  return to[0];
}

/** The answer as a mail client writes it: `Re:` once, threaded on the original, its history quoted below. */
function replyMessage(mail: ReceivedMail, text: string) {
  const { parsed } = mail;
  const subject = parsed.subject ?? '';
  const references = [
    ...(Array.isArray(parsed.references) ? parsed.references : parsed.references ? [parsed.references] : []),
  ];
  if (parsed.messageId && !references.includes(parsed.messageId)) references.push(parsed.messageId);
  const from = answerer(mail);
  const date = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'full', timeStyle: 'short' }).format(
    parsed.date ?? mail.receivedAt,
  );
  const quoted = (parsed.text ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => (line ? `> ${line}` : '>'))
    .join('\n');
  return {
    from: from ? { name: from.name, address: from.address! } : undefined,
    to: addresses(parsed.replyTo).map((a) => ({ name: a.name, address: a.address! })),
    subject: /^re\s*:/i.test(subject) ? subject : `Re: ${subject}`,
    inReplyTo: parsed.messageId,
    references: references.length ? references : undefined,
    text: `${text.replace(/\s+$/, '')}\n\nLe ${date}, ${addressText(addresses(parsed.from)) || 'unknown'} a écrit :\n${quoted}\n`,
  };
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

/** The mail's HTML with `<base target="_blank">` first in its head (before it, a doctype would be lost: quirks mode). */
function linksInNewTab(html: string): string {
  const base = '<base target="_blank">';
  const head = /<head(\s[^>]*)?>/i.exec(html);
  return head
    ? html.slice(0, head.index + head[0].length) + base + html.slice(head.index + head[0].length)
    : base + html;
}
