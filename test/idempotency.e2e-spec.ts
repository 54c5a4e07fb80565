import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { putRecipients, settled, waitForMail } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { AUDIENCE, ISSUER } from './tokens';
import { WebhookReceiver } from './webhook-receiver';

const BOOKING_KEY = 'booking-key-0123456789abcdef';
const PAYMENT_KEY = 'payment-key-0123456789abcdef';

/** Idempotency-Key on each creating POST: replayed answers, 422 on another body, keys per caller. */
describe('Idempotency-Key on every POST (real Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let db: Client;
  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    inbox = await startInbox();
    const databaseUrl = await createTestDatabase();
    service = await startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: { AUTH_MODE: 'on', API_KEYS: `booking:${BOOKING_KEY},payment:${PAYMENT_KEY}` },
    });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await service?.close();
    await inbox?.stop();
  });

  const count = async (table: string): Promise<number> =>
    Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);

  const conversation = {
    tripPublicationId: 'PUB-1',
    tripReference: 'TRIP-2027-001',
    establishmentId: 'EST-1',
    customerId: 'customer-1',
  };
  const cases: Array<{
    name: string;
    path: () => string;
    body: Record<string, unknown>;
    other: Record<string, unknown>;
    table: string;
    status: number;
    headers: string[];
  }> = [
    {
      name: 'a mail',
      path: () => '/v1/mails',
      body: { category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['u1'] },
      other: { category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['u2'] },
      table: 'mail',
      status: 202,
      headers: ['location'],
    },
    {
      name: 'a contact message',
      path: () => '/v1/contacts',
      body: { name: 'Ana', mail: 'ana@example.com', object: 'Hello', message: 'A question' },
      other: { name: 'Ana', mail: 'ana@example.com', object: 'Hello', message: 'Another question' },
      table: 'contact_message',
      status: 201,
      headers: ['location'],
    },
    {
      name: 'a conversation',
      path: () => '/v1/conversations',
      body: conversation,
      other: { ...conversation, tripReference: 'TRIP-2027-002' },
      table: 'conversation',
      status: 201,
      headers: ['location', 'etag'],
    },
    {
      name: 'a webhook endpoint',
      path: () => '/v1/webhooks',
      body: { url: 'http://127.0.0.1:9/first', events: ['mail.sent'] },
      other: { url: 'http://127.0.0.1:9/other', events: ['mail.sent'] },
      table: 'webhook_endpoint',
      status: 201,
      headers: ['location'],
    },
  ];

  it.each(cases)(
    'replays the first answer for $name (same status, body and headers) and creates nothing more',
    async ({ path, body, table, status, headers }) => {
      const before = await count(table);
      const first = await request(service.url)
        .post(path())
        .set(as(BOOKING_KEY))
        .set('Idempotency-Key', `replay-${table}`)
        .send(body)
        .expect(status);
      const again = await request(service.url)
        .post(path())
        .set(as(BOOKING_KEY))
        .set('Idempotency-Key', `replay-${table}`)
        .send(body)
        .expect(status);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      for (const header of headers) expect([header, again.headers[header]]).toEqual([header, first.headers[header]]);
      expect(await count(table)).toBe(before + 1);
    },
  );

  it.each(cases)(
    'answers 422 IDEMPOTENCY_KEY_REUSED for $name sent again with another body, creating nothing',
    async ({ path, body, other, table, status }) => {
      await request(service.url)
        .post(path())
        .set(as(BOOKING_KEY))
        .set('Idempotency-Key', `reused-${table}`)
        .send(body)
        .expect(status);
      const before = await count(table);
      const res = await request(service.url)
        .post(path())
        .set(as(BOOKING_KEY))
        .set('Idempotency-Key', `reused-${table}`)
        .send(other)
        .expect(422);
      expect(res.body).toMatchObject({ name: 'IDEMPOTENCY_KEY_REUSED', debug_id: res.headers['x-correlation-id'] });
      expect(await count(table)).toBe(before);
    },
  );

  it('replays a cancellation: the answer stored with the cancelling, for a POST that creates nothing', async () => {
    const mail = await request(service.url)
      .post('/v1/mails')
      .set(as(BOOKING_KEY))
      .send({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['u9'], scheduledAt: '2099-01-01T00:00:00Z' })
      .expect(202);
    const cancel = { receiverId: 'u9' };
    const first = await request(service.url)
      .post('/v1/mails/cancellations')
      .set(as(BOOKING_KEY))
      .set('Idempotency-Key', 'cancel-u9')
      .send(cancel)
      .expect(200);
    expect(first.body).toEqual({ count: 1, mailIds: [mail.body.id], requestedMailIds: [] });
    // A mail queued since then: the same key still answers what the first call did, and cancels nothing.
    const later = await request(service.url)
      .post('/v1/mails')
      .set(as(BOOKING_KEY))
      .send({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['u9'], scheduledAt: '2099-01-01T00:00:00Z' })
      .expect(202);
    const again = await request(service.url)
      .post('/v1/mails/cancellations')
      .set(as(BOOKING_KEY))
      .set('Idempotency-Key', 'cancel-u9')
      .send(cancel)
      .expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(
      (await request(service.url).get(`/v1/mails/${later.body.id}`).set(as(BOOKING_KEY)).expect(200)).body.status,
    ).toBe('SCHEDULED');
  });

  it('keeps each caller its own keys: the same key from another service creates its own mail', async () => {
    const body = { category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['u3'] };
    const booking = await request(service.url)
      .post('/v1/mails')
      .set(as(BOOKING_KEY))
      .set('Idempotency-Key', 'shared-name')
      .send(body)
      .expect(202);
    const payment = await request(service.url)
      .post('/v1/mails')
      .set(as(PAYMENT_KEY))
      .set('Idempotency-Key', 'shared-name')
      .send(body)
      .expect(202);
    expect(payment.headers['idempotent-replayed']).toBeUndefined();
    expect(payment.body.id).not.toBe(booking.body.id);
    const { rows } = await db.query(`SELECT caller FROM idempotency_key WHERE key = 'shared-name' ORDER BY caller`);
    expect(rows).toEqual([{ caller: 'booking' }, { caller: 'payment' }]);
  });

  it('stores a posted message and its key together: a replay answers the same message', async () => {
    const created = await request(service.url)
      .post('/v1/conversations')
      .set(as(BOOKING_KEY))
      .send({ ...conversation, tripReference: 'TRIP-MSG' })
      .expect(201);
    const path = `/v1/conversations/${created.body.id}/messages`;
    const message = { transmitterId: 'customer-1', content: 'Is breakfast included?' };
    const first = await request(service.url)
      .post(path)
      .set(as(BOOKING_KEY))
      .set('Idempotency-Key', 'message-1')
      .send(message)
      .expect(201);
    const again = await request(service.url)
      .post(path)
      .set(as(BOOKING_KEY))
      .set('Idempotency-Key', 'message-1')
      .send(message)
      .expect(201);
    expect(again.body.id).toBe(first.body.id);
    expect(
      Number(
        (await db.query('SELECT count(*) FROM conversation_message WHERE conversation_id = $1', [created.body.id]))
          .rows[0].count,
      ),
    ).toBe(1);
  });
});

/** Keys are scoped by the kind of caller as well as its name (issue 17). */
describe('Idempotency-Key per kind of caller (real Postgres, keys, tokens, a trusted proxy)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let db: Client;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const person = async (sub: string) => ({
    authorization: `Bearer ${await new SignJWT({ roles: ['customer'] }).setProtectedHeader({ alg: 'ES256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(sub).setExpirationTime('5m').sign(privateKey)}`,
  });

  beforeAll(async () => {
    inbox = await startInbox();
    const databaseUrl = await createTestDatabase();
    service = await startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: {
        AUTH_MODE: 'on',
        API_KEYS: `booking:${BOOKING_KEY}`,
        JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        JWT_ALGORITHMS: 'ES256',
        TRUST_PROXY: 'loopback',
      },
    });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await service?.close();
    await inbox?.stop();
  });

  it('never replays the answer of the service named booking to the person whose sub is booking', async () => {
    const body = {
      tripPublicationId: 'PUB-9',
      tripReference: 'TRIP-KIND',
      establishmentId: 'EST-1',
      customerId: 'booking',
    };
    const fromService = await request(service.url)
      .post('/v1/conversations')
      .set({ authorization: `Bearer ${BOOKING_KEY}` })
      .set('Idempotency-Key', 'same-name')
      .send(body)
      .expect(201);
    const fromPerson = await request(service.url)
      .post('/v1/conversations')
      .set(await person('booking'))
      .set('Idempotency-Key', 'same-name')
      .send(body)
      .expect(201);
    expect(fromPerson.headers['idempotent-replayed']).toBeUndefined();
    expect(fromPerson.body.id).not.toBe(fromService.body.id);
    const again = await request(service.url)
      .post('/v1/conversations')
      .set(await person('booking'))
      .set('Idempotency-Key', 'same-name')
      .send(body)
      .expect(201);
    expect([again.headers['idempotent-replayed'], again.body.id]).toEqual(['true', fromPerson.body.id]);
    const { rows } = await db.query(`SELECT caller FROM idempotency_key WHERE key = 'same-name' ORDER BY caller`);
    expect(rows).toEqual([{ caller: 'booking' }, { caller: 'sub:booking' }]);
  });

  it('keeps callers without a token apart by their address', async () => {
    const body = { name: 'Ana', mail: 'ana@example.com', object: 'Hello', message: 'A question' };
    const from = (address: string) =>
      request(service.url)
        .post('/v1/contacts')
        .set('X-Forwarded-For', address)
        .set('Idempotency-Key', 'visitor-key')
        .send(body);
    const first = await from('203.0.113.7').expect(201);
    const other = await from('198.51.100.23').expect(201);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(other.body.id).not.toBe(first.body.id);
    const again = await from('203.0.113.7').expect(201);
    expect([again.headers['idempotent-replayed'], again.body.id]).toEqual(['true', first.body.id]);
  });
});

describe('Idempotency-Key and the contact limit (real Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let db: Client;
  const body = { name: 'Ana', mail: 'ana@example.com', object: 'Hello', message: 'Retried by a flaky network' };

  beforeAll(async () => {
    inbox = await startInbox();
    const databaseUrl = await createTestDatabase();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { CONTACT_RATE_LIMIT_PER_HOUR: '3' } });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await service?.close();
    await inbox?.stop();
  });

  it('answers 20 concurrent retries of one contact post with the first answer, not 429, and counts it once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        request(service.url).post('/v1/contacts').set('Idempotency-Key', 'contact-retry-1').send(body),
      ),
    );
    expect(answers.map((res) => res.status)).toEqual(Array(20).fill(201));
    const ids = new Set(answers.map((res) => res.body.id as string));
    expect(ids.size).toBe(1);
    expect(answers.filter((res) => res.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    expect(
      Number((await db.query(`SELECT count(*) FROM contact_message WHERE message = $1`, [body.message])).rows[0].count),
    ).toBe(1);

    // One of the 3 messages an hour was used: two more go through, the next is refused; a retry still gets its replay.
    for (const message of ['Second', 'Third'])
      await request(service.url)
        .post('/v1/contacts')
        .send({ ...body, message })
        .expect(201);
    await request(service.url)
      .post('/v1/contacts')
      .send({ ...body, message: 'Fourth' })
      .expect(429);
    const late = await request(service.url)
      .post('/v1/contacts')
      .set('Idempotency-Key', 'contact-retry-1')
      .send(body)
      .expect(201);
    expect(late.headers['idempotent-replayed']).toBe('true');
  });
});

/** The POST routes of the controllers on disk, as `POST /v1/...` with Nest's `:param` names (a new route must be added to the table below). */
function postRoutes(dir = join(__dirname, '..', 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return postRoutes(path);
    if (!entry.name.endsWith('.controller.ts')) return [];
    return Object.values(require(path) as Record<string, unknown>).flatMap((controller) => {
      if (typeof controller !== 'function' || !Reflect.hasMetadata(PATH_METADATA, controller)) return [];
      const base = String(Reflect.getMetadata(PATH_METADATA, controller));
      const prototype = controller.prototype as Record<string, unknown>;
      return Object.getOwnPropertyNames(prototype)
        .map((name) => prototype[name])
        .filter(
          (handler) =>
            typeof handler === 'function' && Reflect.getMetadata(METHOD_METADATA, handler) === RequestMethod.POST,
        )
        .map(
          (handler) =>
            `POST /${[base, String(Reflect.getMetadata(PATH_METADATA, handler as object))].filter((part) => part && part !== '/').join('/')}`,
        );
    });
  });
}

/**
 * The key is stored in the transaction that does the work, on every POST (issue 18): a key that
 * cannot be stored (a trigger installed on this spec's own database refuses it, as a crash between
 * the work's commit and the key's insert would lose it) leaves nothing done, and the retry with the
 * same key then does the work once.
 */
describe('Idempotency-Key stored with the work, on every POST (real Postgres, a trigger refusing keys)', () => {
  let inbox: SmtpInbox;
  let receiver: WebhookReceiver;
  let service: TestApp;
  let db: Client;
  const api = () => request(service.url);

  beforeAll(async () => {
    inbox = await startInbox();
    receiver = new WebhookReceiver();
    await receiver.start();
    const databaseUrl = await createTestDatabase();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { WEBHOOK_RETRY_SCHEDULE_SECONDS: '1' } });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(
      `CREATE FUNCTION refuse_key() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'this spec refuses the key %', NEW.key; END $$`,
    );
    await putRecipients(service.url, [
      { id: 'tx-ok', email: 'tx.ok@example.com' },
      { id: 'tx-refused', email: 'tx.refused@example.com' },
    ]);
    inbox.recipientPolicy = (address) =>
      address === 'tx.refused@example.com' ? { code: 550, message: 'No such user' } : undefined;
  });

  afterAll(async () => {
    await db?.end();
    await service?.close();
    await receiver?.stop();
    await inbox?.stop();
  });

  const refuseKeys = (on: boolean) =>
    db.query(
      on
        ? `CREATE TRIGGER refuse_key BEFORE INSERT OR UPDATE ON idempotency_key FOR EACH ROW EXECUTE FUNCTION refuse_key()`
        : `DROP TRIGGER refuse_key ON idempotency_key`,
    );
  const one = async (sql: string, params: unknown[] = []): Promise<unknown> =>
    JSON.stringify((await db.query(sql, params)).rows);
  const mail = { category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['tx-ok'] };
  const conversation = {
    tripPublicationId: 'PUB-TX',
    tripReference: 'TRIP-TX',
    establishmentId: 'EST-1',
    customerId: 'customer-1',
  };

  /** Per POST route: a request and what its work changes (read before and after). */
  const cases: Array<{
    route: string;
    prepare: () => Promise<{
      path: string;
      body?: unknown;
      type?: string;
      file?: { bytes: Buffer; filename: string; contentType: string };
      effect: () => Promise<unknown>;
    }>;
  }> = [
    {
      route: 'POST /v1/mails',
      prepare: async () => ({ path: '/v1/mails', body: mail, effect: () => one('SELECT count(*) FROM mail') }),
    },
    {
      route: 'POST /v1/mails/batch',
      prepare: async () => ({
        path: '/v1/mails/batch',
        body: [mail, { category: 'FOO' }],
        effect: () => one('SELECT count(*) FROM mail'),
      }),
    },
    {
      route: 'POST /v1/mails/cancellations',
      prepare: async () => {
        const { body } = await api()
          .post('/v1/mails')
          .send({ ...mail, receiversId: ['tx-cancel'], scheduledAt: '2099-01-01T00:00:00Z' })
          .expect(202);
        return {
          path: '/v1/mails/cancellations',
          body: { receiverId: 'tx-cancel' },
          effect: () => one('SELECT status FROM mail WHERE id = $1', [body.id]),
        };
      },
    },
    {
      route: 'POST /v1/mails/:mailId/retry',
      prepare: async () => {
        const { body } = await api()
          .post('/v1/mails')
          .send({ ...mail, receiversId: ['tx-refused'] })
          .expect(202);
        expect((await waitForMail(service.url, body.id, settled)).status).toBe('FAILED');
        // attempts_base is set by a retry alone (the worker's next attempt fails again, 550).
        return {
          path: `/v1/mails/${body.id}/retry`,
          effect: () => one('SELECT attempts_base FROM delivery WHERE mail_id = $1', [body.id]),
        };
      },
    },
    {
      route: 'POST /v1/webhooks',
      prepare: async () => ({
        path: '/v1/webhooks',
        body: { url: receiver.url('/tx-created'), events: ['mail.cancelled'] },
        effect: () => one('SELECT count(*) FROM webhook_endpoint'),
      }),
    },
    {
      route: 'POST /v1/webhooks/:webhookId/deliveries/:deliveryId/redeliver',
      prepare: async () => {
        const hook = await api()
          .post('/v1/webhooks')
          .send({ url: receiver.url('/tx-redeliver'), events: ['mail.sent'] })
          .expect(201);
        await api().post('/v1/mails').send(mail).expect(202);
        await receiver.waitFor(1, (call) => call.path === '/tx-redeliver');
        const log = await api().get(`/v1/webhooks/${hook.body.id}/deliveries`).expect(200);
        // retry_from is set by a redelivery alone.
        return {
          path: `/v1/webhooks/${hook.body.id}/deliveries/${log.body.content[0].id}/redeliver`,
          effect: () => one('SELECT retry_from FROM webhook_delivery WHERE endpoint_id = $1', [hook.body.id]),
        };
      },
    },
    {
      route: 'POST /v1/contacts',
      prepare: async () => ({
        path: '/v1/contacts',
        body: { name: 'Ana', mail: 'ana@example.com', object: 'Hello', message: 'Stored with its key' },
        effect: () => one('SELECT count(*) FROM contact_message'),
      }),
    },
    {
      route: 'POST /v1/conversations',
      prepare: async () => ({
        path: '/v1/conversations',
        body: conversation,
        effect: () => one('SELECT count(*) FROM conversation'),
      }),
    },
    {
      route: 'POST /v1/inbound/messages',
      prepare: async () => ({
        path: '/v1/inbound/messages',
        type: 'message/rfc822',
        body: 'From: someone@example.com\r\nTo: support@example.com\r\nSubject: Hello\r\nMessage-ID: <tx-inbound@example.com>\r\n\r\nStored with its key\r\n',
        effect: () => one('SELECT count(*) FROM inbound_message'),
      }),
    },
    {
      // Token-addressed and idempotent by nature; a key still replays the first answer.
      route: 'POST /v1/unsubscribe/:token',
      prepare: async () => {
        const token = 'a'.repeat(40);
        await db.query(
          `INSERT INTO subscription (recipient_id, category, unsubscribe_token) VALUES ('tx-unsubscribe', 'PROFILE_COMPLETION_REQUEST', $1)`,
          [token],
        );
        return {
          path: `/v1/unsubscribe/${token}`,
          type: 'application/x-www-form-urlencoded',
          body: 'List-Unsubscribe=One-Click',
          effect: () =>
            one(
              `SELECT email_subscribed, (SELECT count(*) FROM event WHERE type = 'recipient.unsubscribed') AS events
               FROM subscription WHERE unsubscribe_token = $1`,
              [token],
            ),
        };
      },
    },
    {
      route: 'POST /v1/files',
      prepare: async () => ({
        path: '/v1/files',
        file: { bytes: Buffer.from('Stored with its key\n'), filename: 'key.txt', contentType: 'text/plain' },
        effect: () => one('SELECT (SELECT count(*) FROM file) AS files, (SELECT count(*) FROM file_blob) AS blobs'),
      }),
    },
    {
      route: 'POST /v1/conversations/:conversationId/messages',
      prepare: async () => {
        const { body } = await api()
          .post('/v1/conversations')
          .send({ ...conversation, tripReference: 'TRIP-TX-MSG' })
          .expect(201);
        return {
          path: `/v1/conversations/${body.id}/messages`,
          body: { transmitterId: 'customer-1', content: 'Stored with its key' },
          effect: () => one('SELECT count(*) FROM conversation_message'),
        };
      },
    },
  ];

  it('registers one webhook endpoint for 10 concurrent POSTs with one key: the others wait for it and replay, or get 409', async () => {
    const body = { url: receiver.url('/tx-concurrent'), events: ['mail.cancelled'] };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => api().post('/v1/webhooks').set('Idempotency-Key', 'tx-concurrent').send(body)),
    );
    const created = answers.filter((res) => res.status === 201);
    expect(answers.filter((res) => res.status !== 201 && res.status !== 409)).toEqual([]);
    expect(new Set(created.map((res) => res.body.id as string)).size).toBe(1);
    expect(created.filter((res) => res.headers['idempotent-replayed'] === 'true')).toHaveLength(created.length - 1);
    expect((await db.query('SELECT count(*)::int AS n FROM webhook_endpoint WHERE url = $1', [body.url])).rows).toEqual(
      [{ n: 1 }],
    );
  });

  it('covers every POST route of the service', () => {
    expect(cases.map((c) => c.route).sort()).toEqual(postRoutes().sort());
  });

  it.each(cases)(
    '$route: a key that cannot be stored leaves nothing done; the retry does the work once, then replays',
    async ({ route, prepare }) => {
      const { path, body, type = 'application/json', file, effect } = await prepare();
      const key = `tx-${route}`;
      // A multipart upload (POST /v1/files), or a body of its type.
      const send = (req: request.Test) =>
        file
          ? req.attach('file', file.bytes, { filename: file.filename, contentType: file.contentType })
          : req.set('Content-Type', type).send(body as object);
      const before = await effect();
      await refuseKeys(true);
      try {
        const refused = await send(api().post(path).set('Idempotency-Key', key));
        expect([refused.status, await effect()]).toEqual([500, before]);
      } finally {
        await refuseKeys(false);
      }
      const first = await send(api().post(path).set('Idempotency-Key', key));
      expect(first.status).toBeLessThan(300);
      const done = await effect();
      expect(done).not.toEqual(before);
      const again = await send(api().post(path).set('Idempotency-Key', key));
      expect([again.status, again.headers['idempotent-replayed'], again.body, again.text === '']).toEqual([
        first.status,
        'true',
        first.body,
        first.text === '',
      ]);
      for (const header of ['location', 'etag'])
        expect([header, again.headers[header]]).toEqual([header, first.headers[header]]);
      expect(await effect()).toEqual(done);
      const { rows } = await db.query('SELECT status_code FROM idempotency_key WHERE key = $1', [key]);
      expect(rows).toEqual([{ status_code: first.status }]);
    },
  );
});
