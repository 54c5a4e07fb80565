import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { simpleParser } from 'mailparser';
import { createTransport } from 'nodemailer';
import { Client } from 'pg';
import request from 'supertest';
import { ReceivedMail, SmtpInbox } from '../src/delivery/smtp-inbox';
import { InboundSmtpListener } from '../src/inbound/inbound-smtp.listener';
import { putRecipients, settled, waitForMail, waitUntil } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

/**
 * The inbound corpus (test/fixtures/inbound, contract A2) through the real SMTP listener: every
 * message answers a copy the service really sent (a mail, a contact acknowledgement or an unread
 * digest of its own, to an address of its own), is delivered over SMTP to the address its headers
 * name, and is checked for its kind, its effect, and that nothing else changed (a snapshot of every
 * delivery, mail, suppression, thread and conversation before and after). The accuracy over the
 * corpus is printed at the end (README, "Inbound mail: what comes back").
 */

const DIR = join(__dirname, 'fixtures', 'inbound');

interface Expected {
  kind: 'BOUNCE' | 'DELAY' | 'COMPLAINT' | 'REPLY' | 'AUTO_REPLY' | 'UNRECOGNISED';
  recipients?: Array<{ recipient: string; action: string; status: string }>;
  hardBounce?: boolean;
  complaint?: true;
  complainedAddress?: string;
  replyText?: string;
  fromStranger?: true;
  note: string;
}

interface Inbound {
  id: string;
  kind: string;
  messageId: string | null;
  deliveryId: string | null;
  mailId: string | null;
  contactId: string | null;
  conversationId: string | null;
  postedMessageId: string | null;
  reason: string | null;
}

interface MailView {
  status: string;
  deliveries: Array<{
    receiverId: string;
    status: string;
    complainedAt: string | null;
    error: { code: string; smtpResponse: string | null } | null;
  }>;
}

/** What a message answers: a plain mail (to its bounce address), a contact acknowledgement or an unread digest (their reply address). */
type Way = 'mail' | 'contact' | 'conversation';

/** Replies (and an auto-reply) that answer an unread digest, so a conversation gets them; the others answer a contact acknowledgement. */
const THROUGH_DIGEST = new Set([
  'reply-gmail-en-attachment.eml',
  'reply-outlook-web-en.eml',
  'reply-yahoo-fr-unquoted.eml',
  'autoreply-outlook-en-no-auto-submitted.eml',
]);

/** The copy a corpus message answers, and the values of its placeholders. */
interface Sent {
  way: Way;
  /** The receiver id of the copy (r-<fixture> for mails and digests). */
  receiverId: string;
  /** Where the copy went: %RECIPIENT%. */
  address: string;
  mailId: string;
  deliveryId: string;
  copy: ReceivedMail;
  threadId?: string;
  conversationId?: string;
  agentId?: string;
  values: Record<string, string>;
}

const expected: Record<string, Expected> = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
const files = readdirSync(DIR)
  .filter((file) => file.endsWith('.eml'))
  .sort();
const sources = new Map(files.map((file) => [file, readFileSync(join(DIR, file), 'utf8')]));

/** The top-level header block, unfolded: lower-cased name → first value. */
function topHeaders(raw: string): Record<string, string> {
  const end = raw.search(/\r?\n\r?\n/);
  const headers: Record<string, string> = {};
  for (const line of raw
    .slice(0, end < 0 ? undefined : end)
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)) {
    const field = /^([!-9;-~]+):\s*(.*)$/.exec(line);
    if (field) headers[field[1].toLowerCase()] ??= field[2].trim();
  }
  return headers;
}

function substitute(text: string, values: Record<string, string>): string {
  return Object.entries(values).reduce((t, [key, value]) => t.split(`%${key}%`).join(value), text);
}

function bareAddress(value: string | undefined): string {
  return (/<([^<>]*)>/.exec(value ?? '')?.[1] ?? value ?? '').trim();
}

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Per message: whether its kind was right, whether its effect (and only it) was. */
const outcomes = new Map<string, { kind: boolean; effect: boolean }>();

describe('Inbound corpus through the real SMTP listener (real SMTP both ways, real Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let databaseUrl: string;
  let db: Client;
  let listenerPort: number;
  const sent = new Map<string, Sent>();
  /** Deliveries and mails that existed before the first message: the snapshot follows them. */
  let baseline: { deliveries: string[]; mails: string[] };
  const api = () => request(service.url);

  beforeAll(async () => {
    inbox = await startInbox();
    databaseUrl = await createTestDatabase();
    service = await startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: { UNREAD_MAIL_DELAY_SECONDS: '1', CONTACT_INBOX_EMAIL: 'support@voyages.test', INBOUND_SMTP_PORT: '0' },
    });
    listenerPort = service.app.get(InboundSmtpListener).port!;
    db = new Client({ connectionString: databaseUrl });
    await db.connect();

    // A copy of its own for every message, all at once: their effects never mix.
    await Promise.all(files.map(async (file) => sent.set(file, await sendCopy(file))));
    // Every copy settled and nothing in flight: from here on only the corpus changes anything.
    await waitUntil('the mail queue at rest', async () => {
      const { rows } = await db.query<{ busy: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM delivery_attempt WHERE finished_at IS NULL)
             OR EXISTS (SELECT 1 FROM delivery WHERE status IN ('SCHEDULED', 'PENDING', 'SENDING')) AS busy`,
      );
      return !rows[0].busy;
    });
    const deliveries = await db.query<{ id: string }>('SELECT id FROM delivery');
    const mails = await db.query<{ id: string }>('SELECT id FROM mail');
    baseline = { deliveries: deliveries.rows.map((r) => r.id), mails: mails.rows.map((r) => r.id) };
  }, 180_000);

  afterAll(async () => {
    const all = [...outcomes.values()];
    const kinds = all.filter((o) => o.kind).length;
    const effects = all.filter((o) => o.effect).length;
    const pct = (n: number) => ((100 * n) / Math.max(all.length, 1)).toFixed(1);
    const wrong = [...outcomes].filter(([, o]) => !o.kind || !o.effect).map(([file]) => file);
    process.stdout.write(
      `Inbound corpus through the SMTP listener: kind ${kinds}/${all.length} (${pct(kinds)} %), ` +
        `effect ${effects}/${all.length} (${pct(effects)} %)${wrong.length ? `; wrong: ${wrong.join(', ')}` : ''}\n`,
    );
    await db?.end();
    await service?.close();
    await inbox?.stop();
  });

  function wayOf(file: string): Way {
    const to = topHeaders(sources.get(file)!).to ?? '';
    if (!to.includes('%REPLY_ADDRESS%')) return 'mail';
    return THROUGH_DIGEST.has(file) ? 'conversation' : 'contact';
  }

  /** Sends the copy a corpus message answers, to r-<fixture>@example.com, and reads it in the inbox. */
  async function sendCopy(file: string): Promise<Sent> {
    const name = basename(file, '.eml');
    const receiverId = `r-${name}`;
    const address = `${receiverId}@example.com`;
    const way = wayOf(file);
    const category = (m: ReceivedMail) => String(m.parsed.headers.get('x-mail-category') ?? '');
    let copy: ReceivedMail;
    let threadId: string | undefined;
    let conversationId: string | undefined;
    let agentId: string | undefined;
    if (way === 'mail') {
      await putRecipients(service.url, [{ id: receiverId, email: address, firstName: 'Claire' }]);
      const res = await api()
        .post('/v1/mails')
        .send({
          receiversId: [receiverId],
          category: 'TRIP_REMINDER_NOTIFICATION',
          reservationId: `R-${name}`,
          publicationId: 'P-1',
        })
        .expect(202);
      const mailId = (res.body as { id: string }).id;
      [copy] = await inbox.waitFor((m) => m.parsed.headers.get('x-mail-id') === mailId, 1, 60_000);
    } else if (way === 'contact') {
      const opened = await api()
        .post('/v1/contacts')
        .send({ name: 'Claire Martin', mail: address, object: 'Séjour', message: 'Bonjour, des dates en juillet ?' })
        .expect(201);
      threadId = (opened.body as { id: string }).id;
      [copy] = await inbox.waitFor(
        (m) => m.envelopeTo.includes(address) && category(m) === 'CONTACT_ACKNOWLEDGEMENT',
        1,
        60_000,
      );
    } else {
      agentId = `a-${name}`;
      await putRecipients(service.url, [
        { id: receiverId, email: address, firstName: 'Claire' },
        { id: agentId, email: `${agentId}@example.com` },
      ]);
      const created = await api()
        .post('/v1/conversations')
        .send({
          tripPublicationId: `TRIP-${name}`,
          tripReference: `VOY-${name}`,
          establishmentId: 'EST-1',
          customerId: receiverId,
          assignedAgentId: agentId,
        })
        .expect(201);
      conversationId = (created.body as { id: string }).id;
      await api()
        .post(`/v1/conversations/${conversationId}/messages`)
        .send({ transmitterId: agentId, content: 'Votre départ est confirmé.' })
        .expect(201);
      [copy] = await inbox.waitFor(
        (m) => m.envelopeTo.includes(address) && category(m) === 'CONVERSATION_UNREAD_MESSAGES',
        1,
        60_000,
      );
    }
    const mailId = String(copy.parsed.headers.get('x-mail-id'));
    // The inbox has the copy a moment before the worker records the relay's answer.
    await waitForMail(service.url, mailId, settled, 60_000);
    const { rows } = await db.query<{ id: string; receiver_id: string }>(
      'SELECT id, receiver_id FROM delivery WHERE mail_id = $1 AND lower(email) = lower($2)',
      [mailId, address],
    );
    if (rows.length !== 1) throw new Error(`${file}: no single delivery of mail ${mailId} to ${address}`);
    return {
      way,
      receiverId: rows[0].receiver_id,
      address,
      mailId,
      deliveryId: rows[0].id,
      copy,
      threadId,
      conversationId,
      agentId,
      values: {
        BOUNCE_ADDRESS: copy.envelopeFrom,
        REPLY_ADDRESS: copy.parsed.replyTo?.value[0]?.address ?? '',
        RECIPIENT: address,
        MESSAGE_ID: copy.parsed.messageId ?? '',
        MAIL_ID: mailId,
        STRANGER: `s-${name}@example.net`,
      },
    };
  }

  /** Sends raw bytes to the listener as an MTA would, with this envelope. */
  async function deliver(raw: string, to: string, from: string): Promise<void> {
    const transport = createTransport({ host: '127.0.0.1', port: listenerPort, secure: false, ignoreTLS: true });
    try {
      const info = await transport.sendMail({ envelope: { from, to: [to] }, raw });
      if (!/^250/.test(info.response)) throw new Error(`The listener answered ${info.response}`);
    } finally {
      transport.close();
    }
  }

  /**
   * The state a corpus message could change, flat: key → value. Every delivery and mail that
   * existed before the first message, the whole suppression list, the message count of every
   * contact thread and conversation, and the mails created since, by category.
   */
  async function snapshot(): Promise<Map<string, string>> {
    const state = new Map<string, string>();
    const deliveries = await db.query(
      `SELECT d.id, d.status, d.error_code AS "errorCode", d.smtp_response AS "smtpResponse",
              d.complained_at IS NOT NULL AS complained,
              coalesce((SELECT array_agg(a.outcome ORDER BY a.attempt) FROM delivery_attempt a WHERE a.delivery_id = d.id), '{}') AS attempts
       FROM delivery d WHERE d.id = ANY($1::uuid[])`,
      [baseline.deliveries],
    );
    for (const { id, ...row } of deliveries.rows) state.set(`delivery:${id}`, JSON.stringify(row));
    const mails = await db.query(
      `SELECT id, status, deliveries_sent AS sent, deliveries_failed AS failed FROM mail WHERE id = ANY($1::uuid[])`,
      [baseline.mails],
    );
    for (const { id, ...row } of mails.rows) state.set(`mail:${id}`, JSON.stringify(row));
    const suppressions = await db.query('SELECT email, reason FROM suppression');
    for (const { email, reason } of suppressions.rows) state.set(`suppression:${email}`, JSON.stringify(reason));
    const threads = await db.query('SELECT conversation_id AS id, count(*)::int AS n FROM contact_message GROUP BY 1');
    for (const { id, n } of threads.rows) state.set(`thread:${id}`, String(n));
    const conversations = await db.query(
      'SELECT conversation_id AS id, count(*)::int AS n FROM conversation_message GROUP BY 1',
    );
    for (const { id, n } of conversations.rows) state.set(`conversation:${id}`, String(n));
    const created = await db.query(
      'SELECT category, count(*)::int AS n FROM mail WHERE NOT (id = ANY($1::uuid[])) GROUP BY 1',
      [baseline.mails],
    );
    for (const { category, n } of created.rows) state.set(`newMails:${category}`, String(n));
    return state;
  }

  type Change = { before?: unknown; after?: unknown };
  function changes(before: Map<string, string>, after: Map<string, string>): Map<string, Change> {
    const found = new Map<string, Change>();
    const read = (v: string | undefined) => (v === undefined ? undefined : JSON.parse(v));
    for (const key of new Set([...before.keys(), ...after.keys()]))
      if (before.get(key) !== after.get(key))
        found.set(key, { before: read(before.get(key)), after: read(after.get(key)) });
    return found;
  }

  /** The words of the report for the delivery: its Diagnostic-Code, else its Status (contract A2). */
  async function isReportLine(smtpResponse: string, raw: string, status: string): Promise<boolean> {
    if (smtpResponse === `Status: ${status}`) return true;
    const diagnostic = /^Diagnostic-Code:[ \t]*(.*(?:\r?\n[ \t]+.*)*)/im.exec(raw)?.[1];
    if (diagnostic) return collapse(smtpResponse) === collapse(diagnostic.replace(/^[\w-]+[ \t]*;/, ''));
    // A plain-text bounce: a line of what the remote server said, in the message's text.
    const parsed = await simpleParser(raw);
    const text = [raw, parsed.text ?? '', ...parsed.attachments.map((a) => a.content.toString('utf8'))].map(collapse);
    return smtpResponse.trim().length > 0 && text.some((t) => t.includes(collapse(smtpResponse)));
  }

  it('gives every message a Message-ID of its own (the same one twice is a duplicate, handled once)', () => {
    const ids = [...sources.values()].map((raw) => topHeaders(raw)['message-id']).filter((id) => id !== undefined);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('has an expectation for every message', () => {
    expect(Object.keys(expected).sort()).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  it.each(files)('%s', async (file) => {
    const want = expected[file];
    const copy = sent.get(file)!;
    const raw = substitute(sources.get(file)!, copy.values);
    const headers = topHeaders(raw);
    const problems: string[] = [];
    const check = (what: string, actual: unknown, wanted: unknown) => {
      if (JSON.stringify(actual) !== JSON.stringify(wanted))
        problems.push(`${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(wanted)}`);
    };

    const before = await snapshot();
    const recorded = async () =>
      (await api().get('/v1/inbound/messages').expect(200)).body as { totalElements: number; content: Inbound[] };
    const listed = await recorded();
    // To the address its headers name: ours through the listener, another (abuse@…) through the HTTP way.
    const to = bareAddress(headers.to);
    let record: Inbound | undefined;
    if (/^(bounces|reply)\+[0-9a-f]+@/i.test(to) && to.toLowerCase().endsWith(`@${service.config.inbound.domain}`)) {
      await deliver(raw, to, bareAddress(headers['return-path'] ?? headers.from));
      // Its record: new (a message taken for one received before changes nothing and records nothing).
      const page = await recorded();
      check('inbound messages recorded', page.totalElements, listed.totalElements + 1);
      const known = new Set(listed.content.map((m) => m.id));
      const fresh = page.content.filter((m) => !known.has(m.id));
      const messageId = /<[^<>]+>/.exec(headers['message-id'] ?? '')?.[0];
      const found = fresh.find((m) => m.messageId === messageId) ?? fresh[0];
      if (found) record = (await api().get(`/v1/inbound/messages/${found.id}`).expect(200)).body as Inbound;
    } else {
      const res = await api().post('/v1/inbound/messages').set('Content-Type', 'message/rfc822').send(raw);
      check('HTTP status', res.status, 202);
      if (res.status === 202) record = res.body as Inbound;
    }
    record ??= {
      id: '',
      kind: 'NOT RECORDED',
      messageId: null,
      deliveryId: null,
      mailId: null,
      contactId: null,
      conversationId: null,
      postedMessageId: null,
      reason: null,
    };
    const after = await snapshot();

    // Kind: a stranger's reply is classified REPLY and made REJECTED by the effects layer.
    const wantedKind = want.fromStranger ? 'REJECTED' : want.kind;
    const kindRight = record.kind === wantedKind;
    check('kind', record.kind, wantedKind);

    // The one change each kind may make (key → check of the value after, null when right).
    const allowed = new Map<string, (c: Change) => string | null>();
    const same = (what: string, a: unknown, b: unknown) =>
      JSON.stringify(a) === JSON.stringify(b) ? null : `${what}: ${JSON.stringify(a)}, want ${JSON.stringify(b)}`;
    const suppression = async () => {
      const res = await api().get(`/v1/suppressions/${encodeURIComponent(copy.address)}`);
      return res.status === 200 ? (res.body as { reason: string }).reason : res.status;
    };
    const attempts = async () =>
      (
        (await api().get(`/v1/mails/${copy.mailId}/deliveries/${copy.receiverId}/attempts`).expect(200)).body as Array<{
          outcome: string;
        }>
      ).map((a) => a.outcome);
    const mailView = async () => (await api().get(`/v1/mails/${copy.mailId}`).expect(200)).body as MailView;
    const delivery = (mail: MailView) => mail.deliveries.find((d) => d.receiverId === copy.receiverId);
    type DeliveryRow = { status: string; errorCode: string | null; complained: boolean; attempts: string[] };

    if (want.kind === 'BOUNCE' || want.kind === 'DELAY' || want.kind === 'COMPLAINT' || want.kind === 'REPLY')
      check(
        'the copy it names',
        { mailId: record.mailId, deliveryId: record.deliveryId },
        { mailId: copy.mailId, deliveryId: copy.deliveryId },
      );
    if (record.kind === 'BOUNCE' || record.kind === 'DELAY' || record.kind === 'COMPLAINT')
      check('reason', record.reason, null);

    if (want.kind === 'BOUNCE') {
      const failed = want.recipients!.find((r) => r.action === 'failed')!;
      allowed.set(`delivery:${copy.deliveryId}`, ({ before: b, after: a }) => {
        const was = b as DeliveryRow;
        const now = a as DeliveryRow;
        return same(
          'delivery',
          { status: now.status, errorCode: now.errorCode, complained: now.complained, attempts: now.attempts },
          {
            status: 'BOUNCED',
            errorCode: 'BOUNCED',
            complained: was.complained,
            attempts: [...was.attempts, 'BOUNCED'],
          },
        );
      });
      allowed.set(`mail:${copy.mailId}`, ({ after: a }) => same('mail', a, { status: 'FAILED', sent: 0, failed: 1 }));
      if (want.hardBounce)
        allowed.set(`suppression:${copy.address}`, ({ before: b, after: a }) =>
          same('suppression', [b, a], [undefined, 'HARD_BOUNCE']),
        );
      const mail = await mailView();
      check('mail status', mail.status, 'FAILED');
      check('delivery status', delivery(mail)?.status, 'BOUNCED');
      check('error code', delivery(mail)?.error?.code, 'BOUNCED');
      const smtpResponse = delivery(mail)?.error?.smtpResponse ?? '';
      if (!(await isReportLine(smtpResponse, raw, substitute(failed.status, copy.values))))
        problems.push(`smtpResponse ${JSON.stringify(smtpResponse)} is not the report's Diagnostic-Code or Status`);
      check('suppression', await suppression(), want.hardBounce ? 'HARD_BOUNCE' : 404);
      check('attempts', await attempts(), ['SENT', 'BOUNCED']);
    } else if (want.kind === 'DELAY') {
      allowed.set(`delivery:${copy.deliveryId}`, ({ before: b, after: a }) => {
        const was = b as DeliveryRow;
        return same('delivery', a, { ...was, attempts: [...was.attempts, 'DELAYED'] });
      });
      const mail = await mailView();
      check('mail status', mail.status, 'SENT');
      check('delivery status', delivery(mail)?.status, 'SENT');
      check('attempts', await attempts(), ['SENT', 'DELAYED']);
      check('suppression', await suppression(), 404);
    } else if (want.kind === 'COMPLAINT') {
      allowed.set(`delivery:${copy.deliveryId}`, ({ before: b, after: a }) =>
        same('delivery', a, { ...(b as DeliveryRow), complained: true }),
      );
      allowed.set(`suppression:${copy.address}`, ({ before: b, after: a }) =>
        same('suppression', [b, a], [undefined, 'COMPLAINT']),
      );
      const mail = await mailView();
      check('mail status', mail.status, 'SENT');
      check('delivery status', delivery(mail)?.status, 'SENT');
      check('complainedAt set', !!delivery(mail)?.complainedAt, true);
      check('suppression', await suppression(), 'COMPLAINT');
      check('attempts', await attempts(), ['SENT']);
    } else if (want.kind === 'REPLY' && want.fromStranger) {
      check('posted', record.postedMessageId, null);
      check('has a reason', !!record.reason, true);
    } else if (want.kind === 'REPLY') {
      const plusOne = (what: string) => (c: Change) => same(what, c.after, Number(c.before ?? 0) + 1);
      check('reason', record.reason, null);
      if (copy.way === 'contact') {
        allowed.set(`thread:${copy.threadId}`, plusOne('thread messages'));
        // Like any reply of the opener, it is mailed to the support inbox.
        allowed.set('newMails:CONTACT_REPLY', plusOne('CONTACT_REPLY mails'));
        check('contactId', record.contactId, copy.threadId);
        const thread = (await api().get(`/v1/contacts/${copy.threadId}/messages`).expect(200)).body as {
          content: Array<{ id: string; message: string; mail: string }>;
        };
        check('thread length', thread.content.length, 2);
        check('posted message', thread.content[1], {
          ...thread.content[1],
          id: record.postedMessageId,
          mail: copy.address,
          message: want.replyText,
        });
      } else {
        allowed.set(`conversation:${copy.conversationId}`, plusOne('conversation messages'));
        // The agent it is posted to has it unread: their digest is scheduled.
        allowed.set('newMails:CONVERSATION_UNREAD_MESSAGES', plusOne('unread digests'));
        check('conversationId', record.conversationId, copy.conversationId);
        const messages = (await api().get(`/v1/conversations/${copy.conversationId}/messages`).expect(200)).body as {
          content: Array<{ id: string; content: string; transmitterId: string; receiverId: string }>;
        };
        check('conversation length', messages.content.length, 2);
        const posted = messages.content.find((m) => m.id === record.postedMessageId);
        check(
          'posted message',
          posted && { content: posted.content, transmitterId: posted.transmitterId, receiverId: posted.receiverId },
          { content: want.replyText, transmitterId: copy.receiverId, receiverId: copy.agentId },
        );
      }
    }
    if (want.kind !== 'REPLY' || want.fromStranger) check('posted', record.postedMessageId, null);

    // Nothing else changed: only the allowed keys, each to its value.
    const changed = changes(before, after);
    for (const [key, change] of changed) {
      const verdict = allowed.get(key);
      if (!verdict) problems.push(`unexpected change of ${key}: ${JSON.stringify(change)}`);
      else {
        const wrong = verdict(change);
        if (wrong) problems.push(`${key}: ${wrong}`);
      }
    }
    for (const key of allowed.keys()) if (!changed.has(key)) problems.push(`no change of ${key}`);

    const effectRight = problems.filter((p) => !p.startsWith('kind:')).length === 0;
    outcomes.set(file, { kind: kindRight, effect: effectRight });
    expect(problems).toEqual([]);
  });
});
