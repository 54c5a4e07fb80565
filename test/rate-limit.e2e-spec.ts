import { Client } from 'pg';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { createTestDatabase, LogCapture, startApp, startInbox, TestApp } from './harness';
import { bearer } from './tokens';

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
    second = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { ...auth, RATE_LIMIT_PER_MINUTE: '5', RUN_MODE: 'api' } });
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
        expect(refused.body).toMatchObject({ name: 'TOO_MANY_REQUESTS', debug_id: refused.headers['x-correlation-id'] });
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
      const thread = await request(first.url).post('/v1/contacts').set(bearer(PAYMENT_KEY)).send({ name: 'S', mail: 's@example.com', object: 'Hi', message: 'Hi' }).expect(201);
      const reply = { name: 'V', mail: 'v@example.com', object: 'Re', message: 'Thanks', conversationId: thread.body.id };
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await request(i % 2 ? second.url : first.url).post('/v1/contacts').send(reply)).status);
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
      expect(logs.lines.some((line) => line.msg === 'The rate limit store failed; the request goes through unlimited')).toBe(true);
    });
  });

  describe('CONTACT_RATE_LIMIT_PER_HOUR', () => {
    let contacts: TestApp;
    const thread = (mail: string) => request(contacts.url).post('/v1/contacts').send({ name: 'Visitor', mail, object: 'Question', message: 'Hello' });

    beforeAll(async () => {
      contacts = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { CONTACT_RATE_LIMIT_PER_HOUR: '5', RATE_LIMIT_PER_MINUTE: '1000', RUN_MODE: 'api' } });
    });

    afterAll(async () => {
      await contacts?.close();
    });

    it('opens at most 5 threads an hour for one visitor address (any case), then 429; replies are not counted', async () => {
      const statuses: number[] = [];
      for (const mail of ['camille@example.com', 'Camille@Example.com', 'CAMILLE@example.com', 'camille@EXAMPLE.com', 'camille@example.com']) {
        statuses.push((await thread(mail)).status);
      }
      expect(statuses).toEqual([201, 201, 201, 201, 201]);
      const refused = await thread('camille@example.com').expect(429);
      expect(refused.body.name).toBe('TOO_MANY_REQUESTS');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500);
      expect(refused.headers['ratelimit-limit']).toBe('5');

      const first = (await db.query<{ id: string }>(`SELECT id FROM contact_message WHERE lower(mail) = 'camille@example.com' ORDER BY sending_date LIMIT 1`)).rows[0];
      await request(contacts.url).post('/v1/contacts').send({ name: 'Visitor', mail: 'camille@example.com', object: 'Re', message: 'And a reply', conversationId: first.id }).expect(201);
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
      const keys = (await db.query<{ key: string }>(`SELECT key FROM rate_limit WHERE key LIKE 'contact-%'`)).rows.map((r) => r.key);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.join(' ')).not.toMatch(/example\.com/i);
    });
  });
});
