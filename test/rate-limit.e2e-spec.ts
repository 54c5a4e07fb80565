import { Client } from 'pg';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { createTestDatabase, LogCapture, startApp, startInbox, TestApp } from './harness';
import { AUDIENCE, bearer, ISSUER, JwksServer, signingKey, signToken } from './tokens';

const BOOKING_KEY = 'svc_booking_1a2b3c4d5e6f7a8b';
const PAYMENT_KEY = 'svc_payment_9f8e7d6c5b4a3f2e';
const auth = { AUTH_MODE: 'on', API_KEYS: `booking:${BOOKING_KEY},payment:${PAYMENT_KEY}` };

const limitHeaders = (res: request.Response) => ({
  limit: res.headers['ratelimit-limit'],
  remaining: res.headers['ratelimit-remaining'],
  reset: Number(res.headers['ratelimit-reset']),
});

describe('Rate limits kept in Postgres (two API instances, one database)', () => {
  let inbox: SmtpInbox;
  let databaseUrl: string;
  let db: Client;
  let first: TestApp;
  let second: TestApp;
  const logs = new LogCapture();

  beforeAll(async () => {
    inbox = await startInbox();
    databaseUrl = await createTestDatabase();
    first = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, logs, env: { ...auth, RATE_LIMIT_PER_MINUTE: '5' } });
    second = await startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: { ...auth, RATE_LIMIT_PER_MINUTE: '5', RUN_MODE: 'api' },
    });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await second?.close();
    await first?.close();
    await inbox?.stop();
  });

  describe('RATE_LIMIT_PER_MINUTE per API key', () => {
    it('counts one key on both instances, tells what is left on every answer, then answers 429 with Retry-After', async () => {
      const remaining: string[] = [];
      for (const instance of [first, second, first, second, first]) {
        const res = await request(instance.url).get('/v1/templates').set(bearer(BOOKING_KEY)).expect(200);
        expect(limitHeaders(res)).toMatchObject({ limit: '5' });
        expect(limitHeaders(res).reset).toBeGreaterThanOrEqual(1);
        expect(limitHeaders(res).reset).toBeLessThanOrEqual(60);
        remaining.push(res.headers['ratelimit-remaining'] as string);
      }
      expect(remaining).toEqual(['4', '3', '2', '1', '0']);

      for (const instance of [second, first]) {
        const refused = await request(instance.url).get('/v1/templates').set(bearer(BOOKING_KEY)).expect(429);
        expect(refused.body).toMatchObject({
          name: 'TOO_MANY_REQUESTS',
          debug_id: refused.headers['x-correlation-id'],
        });
        const retryAfter = Number(refused.headers['retry-after']);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(limitHeaders(refused)).toEqual({ limit: '5', remaining: '0', reset: retryAfter });
      }
    });

    it('keeps another key, the probes and the docs out of that count', async () => {
      const other = await request(first.url).get('/v1/templates').set(bearer(PAYMENT_KEY)).expect(200);
      expect(other.headers['ratelimit-remaining']).toBe('4');
      const health = await request(first.url).get('/health').set(bearer(BOOKING_KEY)).expect(200);
      expect(health.headers['ratelimit-limit']).toBeUndefined();
      await request(first.url).get('/health/ready').expect(200);
      await request(first.url).get('/docs-json').expect(200);
    });

    it('counts callers without a key by client address', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        statuses.push(
          (
            await request(i % 2 ? second.url : first.url)
              .post('/v1/contacts')
              .send({ name: 'V', mail: `v${i}@example.com`, object: 'Hi', message: 'Hi' })
          ).status,
        );
      }
      expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    });

    it('lets requests through when the store fails, and says so in the logs', async () => {
      await db.query('ALTER TABLE rate_limit RENAME TO rate_limit_away');
      try {
        const res = await request(first.url).get('/v1/templates').set(bearer(PAYMENT_KEY)).expect(200);
        expect(res.headers['ratelimit-limit']).toBeUndefined();
      } finally {
        await db.query('ALTER TABLE rate_limit_away RENAME TO rate_limit');
      }
      expect(
        logs.lines.some((line) => line.msg === 'The rate limit store failed; the request goes through unlimited'),
      ).toBe(true);
    });
  });

  describe('CONTACT_RATE_LIMIT_PER_HOUR', () => {
    let contacts: TestApp;
    const thread = (mail: string) =>
      request(contacts.url).post('/v1/contacts').send({ name: 'Visitor', mail, object: 'Question', message: 'Hello' });

    beforeAll(async () => {
      contacts = await startApp({
        databaseUrl,
        smtpUrl: inbox.smtpUrl,
        env: { CONTACT_RATE_LIMIT_PER_HOUR: '5', RATE_LIMIT_PER_MINUTE: '1000', RUN_MODE: 'api' },
      });
    });

    afterAll(async () => {
      await contacts?.close();
    });

    it('takes at most 5 messages an hour for one visitor address (any case), then 429, a reply in their thread as a new thread', async () => {
      const statuses: number[] = [];
      for (const mail of [
        'camille@example.com',
        'Camille@Example.com',
        'CAMILLE@example.com',
        'camille@EXAMPLE.com',
        'camille@example.com',
      ]) {
        statuses.push((await thread(mail)).status);
      }
      expect(statuses).toEqual([201, 201, 201, 201, 201]);
      const refused = await thread('camille@example.com').expect(429);
      expect(refused.body.name).toBe('TOO_MANY_REQUESTS');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500);
      expect(refused.headers['ratelimit-limit']).toBe('5');

      const first = (
        await db.query<{ id: string }>(
          `SELECT id FROM contact_message WHERE lower(mail) = 'camille@example.com' ORDER BY sending_date LIMIT 1`,
        )
      ).rows[0];
      // AUTH_MODE=off trusts every caller to reply, but counts it: nobody was identified.
      const reply = await request(contacts.url)
        .post('/v1/contacts')
        .send({
          name: 'Visitor',
          mail: 'other@example.com',
          object: 'Re',
          message: 'And a reply',
          conversationId: first.id,
        })
        .expect(429);
      expect(reply.body.name).toBe('TOO_MANY_REQUESTS');
      expect(
        Number((await db.query(`SELECT count(*) FROM contact_message WHERE message = 'And a reply'`)).rows[0].count),
      ).toBe(0);
    });

    it('also limits the client address, whatever visitor address it writes', async () => {
      await thread('dominique@example.com').expect(429);
    });

    it('recovers when the hour is over (the stored counters aged through SQL)', async () => {
      await db.query(`UPDATE rate_limit SET expire = $1 WHERE key LIKE 'contact-ip:%'`, [Date.now() - 1]);
      await thread('dominique@example.com').expect(201);
      await thread('camille@example.com').expect(429);
      await db.query(`UPDATE rate_limit SET expire = $1 WHERE key LIKE 'contact-mail:%'`, [Date.now() - 1]);
      await thread('camille@example.com').expect(201);
    });

    it('keeps no visitor address in clear in the counters', async () => {
      const keys = (await db.query<{ key: string }>(`SELECT key FROM rate_limit WHERE key LIKE 'contact-%'`)).rows.map(
        (r) => r.key,
      );
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.join(' ')).not.toMatch(/example\.com/i);
    });
  });
});

describe('CONTACT_RATE_LIMIT_PER_HOUR with access control on: every message that causes mail counts, but support’s', () => {
  const jwks = new JwksServer();
  let inbox: SmtpInbox;
  let db: Client;
  let service: TestApp;
  let as: Record<'service' | 'admin' | 'customer', Record<string, string>>;
  const post = (who: Record<string, string>, body: Record<string, unknown>) =>
    request(service.url)
      .post('/v1/contacts')
      .set(who)
      .send({ name: 'Alice', mail: 'alice@example.com', object: 'Booking', message: 'Hello', ...body });

  beforeAll(async () => {
    inbox = await startInbox();
    const key = await signingKey('k1');
    jwks.keys = [key.jwk];
    const databaseUrl = await createTestDatabase();
    service = await startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: {
        ...auth,
        CONTACT_RATE_LIMIT_PER_HOUR: '3',
        RATE_LIMIT_PER_MINUTE: '1000',
        JWT_JWKS_URL: await jwks.start(),
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      },
    });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    as = {
      service: bearer(BOOKING_KEY),
      admin: bearer(await signToken(key, { sub: 'admin-1', roles: ['admin'] })),
      customer: bearer(await signToken(key, { sub: 'customer-A', roles: ['customer'] })),
    };
  });

  afterAll(async () => {
    await db?.end();
    await service?.close();
    await jwks.stop();
    await inbox?.stop();
  });

  it('counts a customer’s replies in their own thread with their new threads, then answers 429 and stores nothing', async () => {
    const thread = await post(as.customer, {}).expect(201);
    await post(as.customer, { message: 'First reply', conversationId: thread.body.id }).expect(201);
    await post(as.customer, {
      mail: 'alias@example.com',
      message: 'Second reply',
      conversationId: thread.body.id,
    }).expect(201);
    const refused = await post(as.customer, { message: 'Third reply', conversationId: thread.body.id }).expect(429);
    expect(refused.body).toMatchObject({ name: 'TOO_MANY_REQUESTS', debug_id: refused.headers['x-correlation-id'] });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500);
    expect(
      Number((await db.query(`SELECT count(*) FROM contact_message WHERE message = 'Third reply'`)).rows[0].count),
    ).toBe(0);
  });

  it('does not count services and admins (support’s tools): they answer and open threads past the limit', async () => {
    const thread = (
      await db.query<{ id: string }>(
        `SELECT id FROM contact_message WHERE id = conversation_id AND transmitter_id = 'customer-A'`,
      )
    ).rows[0];
    for (let i = 0; i < 4; i++)
      await post(as.service, {
        name: 'Support',
        mail: 'support@voyages.test',
        message: `Answer ${i}`,
        conversationId: thread.id,
      }).expect(201);
    await post(as.admin, { name: 'Admin', message: 'Answer from an admin', conversationId: thread.id }).expect(201);
    for (let i = 0; i < 4; i++)
      await post(as.service, { mail: 'alice@example.com', message: `On behalf of Alice ${i}` }).expect(201);
    // The customer's own budget is still spent.
    await post(as.customer, { message: 'Still too many', conversationId: thread.id }).expect(429);
  });
});

describe('Failed authentication, limited per client address (two API instances, one database)', () => {
  const LIMIT = 5;
  let inbox: SmtpInbox;
  let first: TestApp;
  let second: TestApp;
  const from = (address: string) => ({ 'x-forwarded-for': address });

  beforeAll(async () => {
    inbox = await startInbox();
    const databaseUrl = await createTestDatabase();
    // TRUST_PROXY: each test comes from its own client address through X-Forwarded-For.
    const env = {
      ...auth,
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_PER_MINUTE: '1000',
      AUTH_FAILURE_LIMIT_PER_MINUTE: String(LIMIT),
    };
    first = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env });
    second = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { ...env, RUN_MODE: 'api' } });
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
    await inbox?.stop();
  });

  it('answers 401 up to the limit on both instances, then 429 with Retry-After, even to a valid key, until the window ends', async () => {
    const attacker = from('203.0.113.7');
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const instance = i % 2 ? second : first;
      // Wrong keys, and no credential at all on a closed route, count alike.
      const res =
        i % 3
          ? await request(instance.url)
              .get('/v1/templates')
              .set(attacker)
              .set(bearer(`svc_guess_${i}_0123456789abcdef`))
          : await request(instance.url).get('/v1/templates').set(attacker);
      statuses.push(res.status);
    }
    expect(statuses).toEqual(Array(LIMIT).fill(401));

    for (const instance of [first, second]) {
      const refused = await request(instance.url)
        .get('/v1/templates')
        .set(attacker)
        .set(bearer('svc_guess_x_0123456789abcdef'))
        .expect(429);
      expect(refused.body).toMatchObject({ name: 'TOO_MANY_REQUESTS', debug_id: refused.headers['x-correlation-id'] });
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // A right key from that address is no way round it: guessing must not tell a right key from a wrong one.
      const valid = await request(instance.url).get('/v1/templates').set(attacker).set(bearer(BOOKING_KEY)).expect(429);
      expect(valid.body.name).toBe('TOO_MANY_REQUESTS');
    }
  });

  it('leaves other client addresses and the health probes alone', async () => {
    await request(first.url).get('/v1/templates').set(from('198.51.100.20')).set(bearer(BOOKING_KEY)).expect(200);
    await request(second.url)
      .get('/v1/templates')
      .set(from('198.51.100.20'))
      .set(bearer('svc_wrong_key_0123456789abcdef'))
      .expect(401);
    await request(first.url).get('/health').set(from('203.0.113.7')).expect(200);
  });
});
