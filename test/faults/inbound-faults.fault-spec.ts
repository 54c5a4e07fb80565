import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../../src/database/embedded-postgres';
import { ReceivedMail, SmtpInbox } from '../../src/delivery/smtp-inbox';
import { FaultFixture } from './fault-fixture';
import { ServiceProcess } from './service-process';
import { deliver, inboundFixture, SmtpClient, SmtpReply } from './smtp-client';
import { call, mailEvent, putRecipients, receiverIds, waitUntil } from './traffic';

const FIXTURES = join(__dirname, '..', 'fixtures', 'inbound');
const MB = 1024 * 1024;
const SUPPORT = 'support@voyages.test';
/** Contact threads from anyone: the contact limit would refuse the test's own traffic from 127.0.0.1. */
const CONTACTS = { CONTACT_RATE_LIMIT_PER_HOUR: '0', CONTACT_INBOX_EMAIL: SUPPORT };

interface Inbound {
  id: string;
  kind: string;
  messageId: string | null;
  mailId: string | null;
  contactId: string | null;
  postedMessageId: string | null;
  reason: string | null;
}

/** The child's resident set (VmRSS) and its peak (VmHWM), in bytes, from /proc. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/**
 * The child's RSS while something runs: its level before, the highest level seen (polled every
 * 5 ms, and VmHWM once it was reset through clear_refs, so no peak between two polls is missed) and
 * its level right after.
 */
async function measureRss<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; before: number; peak: number; after: number; hwmReset: boolean }> {
  const before = memoryOf(pid).rss;
  let hwmReset = false;
  try {
    // "5" resets the peak resident set size of the process (proc(5)), so VmHWM is this run's peak.
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    hwmReset = true;
  } catch {
    // Not allowed here: the polls alone tell the peak.
  }
  let peak = before;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, memoryOf(pid).rss);
    } catch {
      // The process is gone: the test fails on its own.
    }
  }, 5);
  try {
    const result = await work();
    const end = memoryOf(pid);
    peak = Math.max(peak, end.rss, hwmReset ? end.hwm : 0);
    return { result, before, peak, after: end.rss, hwmReset };
  } finally {
    clearInterval(timer);
  }
}

const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

/** The chunks of a message of `total` bytes (headers, then 1,000-byte lines of text), made as they are sent. */
function* bigMessage(to: string, total: number): Generator<Buffer> {
  const head = Buffer.from(
    `From: Big Sender <big@example.com>\r\nTo: ${to}\r\nSubject: a very large message\r\nMessage-ID: <big-${randomBytes(6).toString('hex')}@example.com>\r\nContent-Type: text/plain\r\n\r\n`,
  );
  yield head;
  // CRLF lines that never start with a dot: the same bytes do for SMTP (nothing to stuff) and HTTP.
  const line = `${'x'.repeat(998)}\r\n`;
  const chunk = Buffer.from(line.repeat(64));
  for (let sent = head.length; sent < total; sent += chunk.length)
    yield total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
}

/**
 * POST /v1/inbound/messages with a body of `total` bytes written chunk by chunk (never held whole),
 * with a Content-Length or chunked; stops writing once the answer is in, as a client would. The
 * service answers an oversized body and closes the connection at once (`Connection: close`, the
 * rest unread), so the client may get a reset (EPIPE, ECONNRESET) before it reads the answer:
 * `status` is then 0 and `error` says which.
 */
function postLargeMessage(
  url: string,
  to: string,
  total: number,
  withLength: boolean,
): Promise<{ status: number; error?: string; sent: number }> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/v1/inbound/messages`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', ...(withLength ? { 'content-length': String(total) } : {}) },
    });
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      res.resume();
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, sent });
        req.destroy();
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered) resolve({ status: 0, error: error.code ?? error.message, sent });
    });
    const chunks = bigMessage(to, total);
    const write = (): void => {
      for (;;) {
        if (answered || req.destroyed) return;
        const next = chunks.next();
        if (next.done) return void req.end();
        sent += next.value.length;
        if (!req.write(next.value)) return void req.once('drain', write);
      }
    };
    write();
  });
}

/** The answers the service counted for POST /v1/inbound/messages, by status (its own /metrics). */
async function inboundPostStatuses(url: string): Promise<Record<string, number>> {
  const res = await call('GET', `${url}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  const counts: Record<string, number> = {};
  for (const line of String(res.body).split('\n')) {
    if (!line.startsWith('http_request_duration_seconds_count{')) continue;
    if (!line.includes('method="POST"') || !line.includes('route="/v1/inbound/messages"')) continue;
    const status = /status="(\d+)"/.exec(line)?.[1];
    if (status) counts[status] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** The inbound listener under abuse: floods, oversized messages, the database gone, forged and replayed addresses. */
describe('faults: the inbound SMTP listener under floods, huge messages, a Postgres outage and forged tokens', () => {
  const fx = FaultFixture.install();
  let inbox: SmtpInbox;

  // The service's outgoing mail goes to a real SMTP inbox that keeps each copy with its envelope:
  // the `bounces+` envelope sender and the `reply+` Reply-To that come back here.
  beforeEach(async () => {
    inbox = new SmtpInbox();
    await inbox.start(0);
  });
  afterEach(async () => {
    await inbox?.stop();
  });

  async function startService(
    name: string,
    extra: Record<string, string> = {},
  ): Promise<{ service: ServiceProcess; port: number }> {
    const port = await freePort();
    const service = await fx.start(name, 'all', {
      SMTP_URL: inbox.smtpUrl,
      INBOUND_SMTP_PORT: String(port),
      ...CONTACTS,
      ...extra,
    });
    return { service, port };
  }

  async function get<T>(url: string): Promise<T> {
    const res = await call('GET', url);
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(res.body)} ${res.error ?? ''}`);
    return res.body as T;
  }

  /** Inbound messages recorded, by the API and by the table (they must agree). */
  async function inboundCount(service: ServiceProcess): Promise<number> {
    const page = await get<{ totalElements: number }>(`${service.url}/v1/inbound/messages`);
    const [row] = await fx.pg.query<{ n: number }>(fx.databaseUrl, 'SELECT count(*)::int AS n FROM inbound_message');
    expect(row.n).toBe(page.totalElements);
    return page.totalElements;
  }

  async function inboundByMessageId(service: ServiceProcess, messageId: string): Promise<Inbound[]> {
    const page = await get<{ content: Inbound[] }>(`${service.url}/v1/inbound/messages?sizePage=100`);
    return page.content.filter((m) => m.messageId === messageId);
  }

  /** A mail to one receiver, sent through the inbox (its delivery SENT), and the copy the inbox kept. */
  async function sentCopy(
    service: ServiceProcess,
    receiverId: string,
  ): Promise<{ mailId: string; copy: ReceivedMail }> {
    const res = await call('POST', `${service.url}/v1/mails`, mailEvent(receiverId));
    if (res.status !== 202) throw new Error(`POST /v1/mails: ${res.status} ${JSON.stringify(res.body)}`);
    const mailId = (res.body as { id: string }).id;
    await waitUntil(
      `mail ${mailId} SENT`,
      async () => (await get<{ status: string }>(`${service.url}/v1/mails/${mailId}`)).status === 'SENT',
      30_000,
      100,
    );
    const [copy] = await inbox.waitFor((m) => m.parsed.headers.get('x-mail-id') === mailId);
    expect(copy.envelopeFrom).toMatch(/^bounces\+[0-9a-f]{52}@inbound\.localhost$/);
    return { mailId, copy };
  }

  /** The DSN a relay would send back for that copy: 550 5.1.1 user unknown (corpus message). */
  function bounceOf(copy: ReceivedMail, mailId: string): string {
    return inboundFixture(join(FIXTURES, 'bounce-postfix-user-unknown.eml'), {
      BOUNCE_ADDRESS: copy.envelopeFrom,
      RECIPIENT: copy.envelopeTo[0],
      MESSAGE_ID: copy.parsed.messageId ?? '',
      MAIL_ID: mailId,
      REPLY_ADDRESS: 'no-reply@voyages.test',
    });
  }

  async function deliveryOf(service: ServiceProcess, mailId: string): Promise<{ status: string; error: unknown }> {
    const mail = await get<{ deliveries: Array<{ status: string; error: unknown }> }>(
      `${service.url}/v1/mails/${mailId}`,
    );
    return mail.deliveries[0];
  }

  async function attemptOutcomes(service: ServiceProcess, mailId: string, receiverId: string): Promise<string[]> {
    const attempts = await get<Array<{ outcome: string | null }>>(
      `${service.url}/v1/mails/${mailId}/deliveries/${receiverId}/attempts`,
    );
    return attempts.map((a) => a.outcome ?? 'OPEN');
  }

  it('a flood of 1,000 messages to addresses not ours or with forged tokens: every RCPT refused 550, nothing stored, and a real bounce, the health check and the API answered meanwhile', async () => {
    const { service, port } = await startService('inbound-flood');
    await putRecipients(service.url, 1);
    const [receiver] = receiverIds(1);
    const { mailId, copy } = await sentCopy(service, receiver);
    const bounce = bounceOf(copy, mailId);
    // For the report: the same calls without a flood (a message the listener takes, after a first
    // one that warms the path up, and the probes).
    await deliver(port, 'Subject: hello\r\nMessage-ID: <warm@faults.test>\r\n\r\nhello', [copy.envelopeFrom]);
    let idleStart = Date.now();
    const idle = await deliver(port, 'Subject: hello\r\nMessage-ID: <idle@faults.test>\r\n\r\nhello', [
      copy.envelopeFrom,
    ]);
    const idleDeliveryMs = Date.now() - idleStart;
    idleStart = Date.now();
    const idleReady = await call('GET', `${service.url}/health/ready`);
    const idleReadyMs = Date.now() - idleStart;
    idleStart = Date.now();
    await get(`${service.url}/v1/mails/${mailId}`);
    const idleMailMs = Date.now() - idleStart;
    expect(idle.final).toBe(250);
    expect(idleReady.status).toBe(200);
    const before = await inboundCount(service);

    // Addresses a spammer or a forger would try: other domains, our domain without a token, tokens
    // made up, altered (another delivery, another MAC), truncated, or of the wrong purpose.
    const [local, domain] = copy.envelopeFrom.split('@');
    const token = local.slice('bounces+'.length);
    const flip = (text: string, i: number): string =>
      text.slice(0, i) + (text[i] === '0' ? '1' : '0') + text.slice(i + 1);
    const fixed = [
      'someone@example.com',
      `postmaster@${domain}`,
      `bounces@${domain}`,
      `bounces+${flip(token, 45)}@${domain}`,
      `bounces+${flip(token, 3)}@${domain}`,
      `reply+${token}@${domain}`,
      `bounces+${token.slice(0, 32)}${'0'.repeat(20)}@${domain}`,
      `bounces+${token.slice(0, 51)}@${domain}`,
      `bounces+${token}@inbound.example`,
      `bounces+${token}@example.com`,
      `reply+not-a-token@${domain}`,
    ];
    const forged = (n: number, k: number): string =>
      k === 2 ? `bounces+${randomBytes(26).toString('hex')}@${domain}` : fixed[(n * 2 + k) % fixed.length];

    const MESSAGES = 1000;
    const CONNECTIONS = 20;
    const RCPTS_PER_MESSAGE = 3;
    const codes = { mail: new Map<number, number>(), rcpt: new Map<number, number>(), data: new Map<number, number>() };
    const count = (map: Map<number, number>, code: number): void => void map.set(code, (map.get(code) ?? 0) + 1);
    let started = 0;
    let finished = 0;
    let rcptAnswered = 0;
    // The flood goes on until the legitimate traffic below is done: it is all sent under the flood.
    let legitDone = false;
    const floodStart = Date.now();
    const flood = Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const client = await SmtpClient.open(port);
        try {
          while (started < MESSAGES || !legitDone) {
            const n = started++;
            count(codes.mail, (await client.command(`MAIL FROM:<flooder-${n}@flood.example>`)).code);
            for (let k = 0; k < RCPTS_PER_MESSAGE; k++) {
              count(codes.rcpt, (await client.command(`RCPT TO:<${forged(n, k)}>`)).code);
              rcptAnswered++;
            }
            const { data, final } = await client.data([`Subject: flood ${n}\r\n\r\nbuy now`]);
            count(codes.data, data.code);
            if (final) count(codes.data, final.code);
            await client.command('RSET');
            finished++;
          }
        } finally {
          await client.quit();
        }
      }),
    ).then(() => Date.now() - floodStart);

    await waitUntil('the flood under way', () => rcptAnswered >= 300, 30_000, 5);
    const legitStartedAt = finished;
    const probes: Array<{ ready: number; readyMs: number; mail: number; mailMs: number }> = [];
    let legitAnswered = false;
    const legit = (async () => {
      const t0 = Date.now();
      try {
        const delivery = await deliver(port, bounce, [copy.envelopeFrom], '');
        return { delivery, ms: Date.now() - t0, floodMessagesAtEnd: finished };
      } finally {
        legitAnswered = true;
      }
    })();
    const probing = (async () => {
      // Back to back (a caller that keeps asking), until the bounce is answered and a few rounds are in.
      while (!legitDone) {
        let t0 = Date.now();
        const ready = await call('GET', `${service.url}/health/ready`, undefined, {}, 10_000);
        const readyMs = Date.now() - t0;
        t0 = Date.now();
        const mail = await call('GET', `${service.url}/v1/mails/${mailId}`, undefined, {}, 10_000);
        probes.push({ ready: ready.status, readyMs, mail: mail.status, mailMs: Date.now() - t0 });
        if (probes.length >= 10 && legitAnswered) legitDone = true;
      }
    })();
    const [legitResult] = await Promise.all([legit, probing]);
    const floodMs = await flood;

    const stats = (values: number[]): string => {
      const sorted = [...values].sort((a, b) => a - b);
      return `min ${sorted[0]} / median ${sorted[Math.floor(sorted.length / 2)]} / max ${sorted[sorted.length - 1]} ms`;
    };
    const after = await inboundCount(service);
    const records = await get<{ content: Inbound[] }>(`${service.url}/v1/inbound/messages`);
    const delivery = await deliveryOf(service, mailId);
    console.log(
      `inbound flood: ${finished} messages (${finished * RCPTS_PER_MESSAGE} RCPT TO) over ${CONNECTIONS} connections in ${floodMs} ms ` +
        `(${Math.round((finished * 1000) / floodMs)} messages/s); MAIL ${JSON.stringify(Object.fromEntries(codes.mail))}, ` +
        `RCPT ${JSON.stringify(Object.fromEntries(codes.rcpt))}, DATA ${JSON.stringify(Object.fromEntries(codes.data))}; ` +
        `the real bounce, sent after ${legitStartedAt} flood messages, answered "${legitResult.delivery.last}" in ${legitResult.ms} ms ` +
        `(flood at ${legitResult.floodMessagesAtEnd} messages then); ${probes.length} probes during the flood: ` +
        `/health/ready ${stats(probes.map((p) => p.readyMs))}, GET /v1/mails/{id} ${stats(probes.map((p) => p.mailMs))}; ` +
        `inbound records ${before} → ${after}; delivery ${delivery.status}; without a flood: a message ${idleDeliveryMs} ms, ` +
        `/health/ready ${idleReadyMs} ms, GET /v1/mails/{id} ${idleMailMs} ms`,
    );

    expect(finished).toBeGreaterThanOrEqual(MESSAGES);
    expect(Object.fromEntries(codes.mail)).toEqual({ 250: finished });
    // Every RCPT refused 550 (none accepted, none answered otherwise), so no DATA was ever taken.
    expect(Object.fromEntries(codes.rcpt)).toEqual({ 550: finished * RCPTS_PER_MESSAGE });
    expect(Object.fromEntries(codes.data)).toEqual({ 503: finished });
    // The real bounce, sent under the flood, was taken and applied.
    expect(legitResult.delivery).toMatchObject({ rcpt: [250], data: 354, final: 250 });
    expect(delivery.status).toBe('BOUNCED');
    // Nothing of the flood stored: the one new record is the bounce.
    expect(after).toBe(before + 1);
    expect(records.content[0]).toMatchObject({ kind: 'BOUNCE', mailId });
    // The service kept answering during the flood.
    expect(probes.length).toBeGreaterThanOrEqual(10);
    expect(probes.filter((p) => p.ready !== 200 || p.mail !== 200)).toEqual([]);
  });

  /**
   * Streams `size` bytes to `to` on a fresh connection (no SIZE= on MAIL FROM: the sender does not
   * say, so the limit must hold while the message is read) and returns the replies.
   */
  async function streamOversized(
    port: number,
    to: string,
    size: number,
  ): Promise<{ mail: number; rcpt: number; data: number; final?: SmtpReply; ms: number }> {
    const client = await SmtpClient.open(port, '127.0.0.1', 120_000);
    try {
      const mail = await client.command('MAIL FROM:<big@example.com>');
      const rcpt = await client.command(`RCPT TO:<${to}>`);
      const t0 = Date.now();
      const { data, final } = await client.data(bigMessage(to, size));
      return { mail: mail.code, rcpt: rcpt.code, data: data.code, final, ms: Date.now() - t0 };
    } finally {
      await client.quit();
    }
  }

  it('a 50 MB message over SMTP is refused 552 at INBOUND_MAX_BYTES (25 MB) while it streams, nothing recorded, and memory does not follow the size of the message', async () => {
    // INBOUND_MAX_BYTES at its default, 25 MB: the listener keeps up to that much of a message by
    // design (it cannot know a message is too big before), and the Buffers the socket and
    // smtp-server allocate for the rest are garbage V8 collects lazily (it lets some tens of MB of
    // external memory pile up before a collection). So the first large message raises the
    // process's RSS by more than 25 MB whatever the listener does with it (50 to 70 MB here, about
    // as much as with a listener that keeps every chunk); that figure is reported, not asserted.
    // What shows that the process does not hold the message is the next one, four times larger: a
    // process that kept what it read would grow by its size, this one must stay within 40 MB of the
    // highest level the first message took it to (it rose by 1 to 19 MB in our runs; with the
    // listener patched to keep every chunk, by 150 MB).
    const limit = 25 * MB;
    const { service, port } = await startService('inbound-50mb-smtp');
    await putRecipients(service.url, 1);
    const [receiver] = receiverIds(1);
    const { copy } = await sentCopy(service, receiver);
    const before = await inboundCount(service);

    const first = await measureRss(service.pid, () => streamOversized(port, copy.envelopeFrom, 50 * MB));
    const larger = await measureRss(service.pid, () => streamOversized(port, copy.envelopeFrom, 200 * MB));
    // The same sender announcing the size is refused at MAIL FROM, before a byte of the message.
    const announced = await SmtpClient.open(port);
    const announcedReply = await announced.command(`MAIL FROM:<big@example.com> SIZE=${50 * MB}`);
    await announced.quit();
    const after = await inboundCount(service);
    const highest = Math.max(first.peak, larger.before);
    for (const [name, m] of [
      ['50 MB', first],
      ['then 200 MB', larger],
    ] as const)
      console.log(
        `${name} over SMTP (INBOUND_MAX_BYTES ${mb(limit)}): "${m.result.final?.code} ${m.result.final?.text}" after ${m.result.ms} ms; ` +
          `child RSS before ${mb(m.before)}, peak ${mb(m.peak)} (+${mb(m.peak - m.before)}${m.hwmReset ? ', VmHWM reset before' : ', polled only'}), after ${mb(m.after)}`,
      );
    console.log(
      `SMTP: the 200 MB message rose ${mb(larger.peak - highest)} above the highest level before it (${mb(highest)}); ` +
        `with SIZE=${50 * MB} on MAIL FROM: "${announcedReply.code} ${announcedReply.text}"; inbound records ${before} → ${after}`,
    );

    for (const m of [first, larger]) {
      expect(m.result).toMatchObject({
        mail: 250,
        rcpt: 250,
        data: 354,
        final: { code: 552, text: expect.stringMatching(/^5\.3\.4 /) },
      });
    }
    expect(announcedReply.code).toBe(552);
    expect(after).toBe(before);
    expect(larger.peak - highest).toBeLessThan(40 * MB);
  });

  it('a 50 MB message over HTTP is answered 413 at INBOUND_MAX_BYTES (25 MB), with or without a Content-Length, before it is all sent, nothing recorded', async () => {
    // INBOUND_MAX_BYTES at its default. With a Content-Length the body is refused before a byte of
    // it is read: no growth at all. Chunked, the body parser keeps up to the limit by design before
    // it answers: at most 25 MB, plus the same margin of 15 MB.
    // The service closes the connection as it answers, the rest of the body unread: the client
    // may get a reset before it reads the 413. So what the service answered is read from its own
    // count of answers (/metrics), and the client must have seen either the 413 or that reset.
    const limit = 25 * MB;
    const size = 50 * MB;
    const { service } = await startService('inbound-50mb-http');
    const to = `bounces+${'0'.repeat(52)}@inbound.localhost`;
    const before = await inboundCount(service);
    const statusesBefore = await inboundPostStatuses(service.url);

    const withLength = await measureRss(service.pid, () => postLargeMessage(service.url, to, size, true));
    const chunked = await measureRss(service.pid, () => postLargeMessage(service.url, to, size, false));
    // A few more of each, to see how often a client gets to read the 413.
    const more: Array<{ status: number; error?: string; sent: number }> = [];
    for (let i = 0; i < 4; i++)
      more.push(
        await postLargeMessage(service.url, to, size, true),
        await postLargeMessage(service.url, to, size, false),
      );
    const all = [withLength.result, chunked.result, ...more];
    let statuses: Record<string, number> = {};
    await waitUntil(
      'every answer counted',
      async () => {
        const now = await inboundPostStatuses(service.url);
        statuses = Object.fromEntries(
          Object.entries(now)
            .map(([status, n]) => [status, n - (statusesBefore[status] ?? 0)])
            .filter(([, n]) => n !== 0),
        );
        return Object.values(statuses).reduce((a, b) => a + b, 0) >= all.length;
      },
      10_000,
      100,
    ).catch(() => undefined);
    const after = await inboundCount(service);
    const ready = await call('GET', `${service.url}/health/ready`);
    for (const [name, m] of [
      ['Content-Length', withLength],
      ['chunked', chunked],
    ] as const)
      console.log(
        `50 MB over HTTP (${name}, INBOUND_MAX_BYTES ${mb(limit)}): ${m.result.status || m.result.error} after ${mb(m.result.sent)} written; ` +
          `child RSS before ${mb(m.before)}, peak ${mb(m.peak)} (+${mb(m.peak - m.before)}${m.hwmReset ? ', VmHWM reset before' : ', polled only'}), after ${mb(m.after)}`,
      );
    const seen = (list: typeof all): string => list.map((r) => `${r.status || r.error} after ${mb(r.sent)}`).join(', ');
    console.log(
      `HTTP, what the client saw: with Content-Length ${seen(all.filter((_, k) => k % 2 === 0))}; chunked ${seen(all.filter((_, k) => k % 2 === 1))}; ` +
        `answers the service counted: ${JSON.stringify(statuses)}; inbound records ${before} → ${after}`,
    );

    // Every post answered 413 by the service (none taken, none failed otherwise) ...
    expect(statuses).toEqual({ 413: all.length });
    // ... which the client read, or the connection was closed on it; before the whole body was written.
    for (const r of all) {
      if (r.status) expect(r.status).toBe(413);
      else expect(['EPIPE', 'ECONNRESET']).toContain(r.error);
      expect(r.sent).toBeLessThan(size);
    }
    expect(after).toBe(before);
    expect(ready.status).toBe(200);
    expect(withLength.peak - withLength.before).toBeLessThan(15 * MB);
    expect(chunked.peak - chunked.before).toBeLessThan(limit + 15 * MB);
  });

  it('a bounce arriving while Postgres is down is answered 451, never accepted and lost: the retry after it is back is applied once', async () => {
    const { service, port } = await startService('inbound-pg-down');
    await putRecipients(service.url, 1);
    const [receiver] = receiverIds(1);
    const { mailId, copy } = await sentCopy(service, receiver);
    const bounce = bounceOf(copy, mailId);
    expect(await inboundCount(service)).toBe(0);

    await fx.pg.stop();
    // The sending MTA tries, then tries again while the database is still down.
    const t0 = Date.now();
    const first = await deliver(port, bounce, [copy.envelopeFrom]);
    const firstMs = Date.now() - t0;
    const second = await deliver(port, bounce, [copy.envelopeFrom]);
    await fx.pg.restart();
    await waitUntil(
      'the service ready again',
      async () => (await call('GET', `${service.url}/health/ready`)).status === 200,
      60_000,
      200,
    );
    // Nothing of the refused message was kept: no record, the delivery as it was.
    const countAfterOutage = await inboundCount(service);
    const statusAfterOutage = (await deliveryOf(service, mailId)).status;

    // The MTA's retry, then one more (a sender that lost our 250 sends again).
    const retry = await deliver(port, bounce, [copy.envelopeFrom]);
    const again = await deliver(port, bounce, [copy.envelopeFrom]);
    const delivery = await deliveryOf(service, mailId);
    const outcomes = await attemptOutcomes(service, mailId, receiver);
    const records = await inboundByMessageId(service, '<4XQ2c71k9Wz9sWq@smtp-relay.voyages.example>');
    const total = await inboundCount(service);
    console.log(
      `bounce during a Postgres outage: "${first.last}" in ${firstMs} ms, again "${second.last}"; after the restart ${countAfterOutage} records, ` +
        `delivery ${statusAfterOutage}; retry "${retry.last}", once more "${again.last}"; delivery ${delivery.status}, attempts ${outcomes.join(', ')}, ` +
        `${records.length} record(s) of the report (${total} in all)`,
    );

    expect(first).toMatchObject({ rcpt: [250], data: 354, final: 451 });
    expect(first.last).toMatch(/^451 4\.3\.0/);
    expect(second).toMatchObject({ rcpt: [250], data: 354, final: 451 });
    expect(countAfterOutage).toBe(0);
    expect(statusAfterOutage).toBe('SENT');
    expect(retry).toMatchObject({ rcpt: [250], data: 354, final: 250 });
    expect(again).toMatchObject({ rcpt: [250], data: 354, final: 250 });
    expect(delivery.status).toBe('BOUNCED');
    expect(outcomes.filter((o) => o === 'BOUNCED')).toHaveLength(1);
    expect(outcomes).toEqual(['SENT', 'BOUNCED']);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: 'BOUNCE', mailId });
    expect(total).toBe(1);
  });

  it('a forged reply token is refused at RCPT TO, a real one used by someone else is recorded REJECTED and posts nothing, the same reply twice posts once', async () => {
    const { service, port } = await startService('inbound-forged');
    const visitor = 'claire.martin@example.com';
    const opened = await call('POST', `${service.url}/v1/contacts`, {
      name: 'Claire Martin',
      mail: visitor,
      object: 'Séjour',
      message: 'Des dates en juillet ?',
    });
    if (opened.status !== 201) throw new Error(`POST /v1/contacts: ${opened.status} ${JSON.stringify(opened.body)}`);
    const threadId = (opened.body as { id: string }).id;
    const [ack] = await inbox.waitFor((m) => m.envelopeTo.includes(visitor), 1, 30_000);
    const replyAddress = ack.parsed.replyTo?.value[0]?.address ?? '';
    expect(replyAddress).toMatch(/^reply\+[0-9a-f]{52}@inbound\.localhost$/);
    const threadSize = async (): Promise<number> =>
      (await get<{ totalElements: number }>(`${service.url}/v1/contacts/${threadId}/messages`)).totalElements;
    const messageId = ack.parsed.messageId ?? '';
    const genuine = inboundFixture(join(FIXTURES, 'reply-gmail-fr.eml'), {
      REPLY_ADDRESS: replyAddress,
      RECIPIENT: visitor,
      MESSAGE_ID: messageId,
    });
    const stranger = 'mallory@example.net';
    const replayed = inboundFixture(join(FIXTURES, 'reply-stranger-gmail-en.eml'), {
      REPLY_ADDRESS: replyAddress,
      RECIPIENT: visitor,
      STRANGER: stranger,
      MESSAGE_ID: messageId,
    });
    const threadBefore = await threadSize();
    const recordsBefore = await inboundCount(service);

    // Forged: the token altered (its MAC, its delivery id), or a bounce token made a reply one.
    const [local, domain] = replyAddress.split('@');
    const token = local.slice('reply+'.length);
    const flip = (text: string, i: number): string =>
      text.slice(0, i) + (text[i] === 'a' ? 'b' : 'a') + text.slice(i + 1);
    const forgedAddresses = [
      `reply+${flip(token, 50)}@${domain}`,
      `reply+${flip(token, 10)}@${domain}`,
      `reply+${token.toUpperCase().slice(0, 51)}@${domain}`,
      `bounces+${token}@${domain}`,
    ];
    const forged = await Promise.all(forgedAddresses.map((address) => deliver(port, genuine, [address], visitor)));
    const recordsAfterForged = await inboundCount(service);

    // Replayed: the genuine address, from someone it was not given to.
    const replay = await deliver(port, replayed, [replyAddress], stranger);
    const [replayRecord] = await inboundByMessageId(
      service,
      '<CAKq9Zx8w7V6u5T4s3R2q1P0o9N8m7L6k5J4i3H2g1F0e9D8c@mail.gmail.com>',
    );
    const threadAfterReplay = await threadSize();

    // The visitor's own reply, delivered twice (a sender that did not get our first 250).
    const once = await deliver(port, genuine, [replyAddress], visitor);
    const twice = await deliver(port, genuine, [replyAddress], visitor);
    const genuineRecords = await inboundByMessageId(
      service,
      '<CAF8mZk3nQ1xY7b2Hc4Jd5Ke6Lf7Mg8Nh9Pi0Qj-A1b2C3d4E5f6@mail.gmail.com>',
    );
    const threadAfter = await threadSize();
    // The posted reply is mailed to support once (as any reply of the opener).
    await inbox.waitFor((m) => m.envelopeTo.includes(SUPPORT) && m.raw.includes('4 adultes'), 1, 30_000);
    const recordsAfter = await inboundCount(service);
    console.log(
      `reply tokens: forged ${forged.map((d) => d.last).join(' | ')}; replay by ${stranger} "${replay.last}" → ${replayRecord?.kind} (${replayRecord?.reason}); ` +
        `genuine twice "${once.last}", "${twice.last}" → ${genuineRecords.length} record(s); thread ${threadBefore} → ${threadAfterReplay} after the replay → ${threadAfter}; ` +
        `records ${recordsBefore} → ${recordsAfterForged} after the forged ones → ${recordsAfter}`,
    );

    for (const d of forged) expect(d).toMatchObject({ rcpt: [550] });
    expect(forged.every((d) => d.data === undefined)).toBe(true);
    expect(recordsAfterForged).toBe(recordsBefore);

    expect(replay).toMatchObject({ rcpt: [250], data: 354, final: 250 });
    expect(replayRecord).toMatchObject({ kind: 'REJECTED', postedMessageId: null });
    expect(threadAfterReplay).toBe(threadBefore);

    expect(once).toMatchObject({ rcpt: [250], data: 354, final: 250 });
    expect(twice).toMatchObject({ rcpt: [250], data: 354, final: 250 });
    expect(genuineRecords).toHaveLength(1);
    expect(genuineRecords[0]).toMatchObject({ kind: 'REPLY', contactId: threadId });
    expect(genuineRecords[0].postedMessageId).toEqual(expect.any(String));
    expect(threadAfter).toBe(threadBefore + 1);
    expect(recordsAfter).toBe(recordsBefore + 2);
    const forwards = inbox.messages.filter((m) => m.envelopeTo.includes(SUPPORT) && m.raw.includes('4 adultes'));
    expect(forwards).toHaveLength(1);
  });
});
