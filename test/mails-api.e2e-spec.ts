import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { createTestDatabase, LogCapture, startApp, startInbox, TestApp } from './harness';
import { putRecipients, settled, waitForMail, waitUntil } from './fixtures';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Mails API: contract conventions', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let api: () => ReturnType<typeof request>;
  const logs = new LogCapture();

  beforeAll(async () => {
    inbox = await startInbox();
    service = await startApp({ databaseUrl: await createTestDatabase(), smtpUrl: inbox.smtpUrl, logs });
    api = () => request(service.url);
    await putRecipients(service.url, [{ id: 'camille', email: 'camille@example.com', firstName: 'Camille' }]);
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  const valid = { receiversId: ['camille'], category: 'CLIENT_PAYMENT_NOTIFICATION', reservationId: 'RES-9' };

  async function countMails(query: Record<string, string>): Promise<number> {
    const res = await api().get('/v1/mails').query(query).expect(200);
    return res.body.totalElements as number;
  }

  describe('POST /v1/mails', () => {
    it('answers 202 with the stored mail, its links and a Location header', async () => {
      const res = await api()
        .post('/v1/mails')
        .send({ ...valid, productType: 'TRIP', variables: { amount: { amount: 480, currency: 'EUR' } } })
        .expect(202);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({
        receiversId: ['camille'],
        category: 'CLIENT_PAYMENT_NOTIFICATION',
        reservationId: 'RES-9',
        productType: 'TRIP',
        publicationId: null,
        variables: { amount: { amount: 480, currency: 'EUR' } },
        status: 'PENDING',
        sendingDate: null,
        testMode: false,
        deliveries: [expect.objectContaining({ receiverId: 'camille', status: 'PENDING', attempts: 0, sentAt: null })],
      });
      expect(res.body.id).toMatch(UUID);
      expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
      const self = `${service.url}/v1/mails/${res.body.id}`;
      expect(res.headers.location).toBe(self);
      expect(res.body.links).toEqual([
        {
          href: self,
          rel: 'self',
          title: expect.any(String),
          mediaType: 'application/json',
          method: 'GET',
          encType: 'application/json',
        },
        {
          href: self,
          rel: 'cancel',
          title: expect.any(String),
          mediaType: 'application/json',
          method: 'DELETE',
          encType: 'application/json',
        },
      ]);
      const read = await api().get(`/v1/mails/${res.body.id}`).expect(200);
      expect(read.body.id).toBe(res.body.id);
    });

    it('builds links from PUBLIC_BASE_URL when it is configured', async () => {
      const other = await startApp({
        databaseUrl: await createTestDatabase(),
        smtpUrl: inbox.smtpUrl,
        env: { PUBLIC_BASE_URL: 'https://communication.voyages.test', RUN_MODE: 'api' },
      });
      try {
        const res = await request(other.url).post('/v1/mails').send(valid).expect(202);
        expect(res.body.links[0].href).toBe(`https://communication.voyages.test/v1/mails/${res.body.id}`);
      } finally {
        await other.close();
      }
    });

    it('ignores the read-only fields the seed shows in the request', async () => {
      const res = await api()
        .post('/v1/mails')
        .send({ ...valid, id: 'mine', sendingDate: '2019-08-24T14:15:22Z', links: [] })
        .expect(202);
      expect(res.body.id).toMatch(UUID);
      expect(res.body.sendingDate).toBeNull();
    });

    it.each([
      ['a missing category', { receiversId: ['a'] }, 'category'],
      ['an unknown category', { ...valid, category: 'FOO' }, 'category'],
      ['no receivers', { ...valid, receiversId: [] }, 'receiversId'],
      ['twice the same receiver', { ...valid, receiversId: ['a', 'a'] }, 'receiversId'],
      ['an empty receiver id', { ...valid, receiversId: [''] }, 'receiversId'],
      ['a receiversId that is not an array', { ...valid, receiversId: 'camille' }, 'receiversId'],
      [
        'the id the category requires',
        { receiversId: ['a'], category: 'CLIENT_PAYMENT_NOTIFICATION' },
        'reservationId',
      ],
      ['an unknown productType', { ...valid, productType: 'CAR' }, 'productType'],
      ['an unknown locale', { ...valid, locale: 'de' }, 'locale'],
      ['an unknown field', { ...valid, priority: 'high' }, 'priority'],
      ['a nested variable', { ...valid, variables: { trip: { title: 'x' } } }, 'variables'],
      [
        'too many variables',
        { ...valid, variables: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`v${i}`, i])) },
        'variables',
      ],
      ['a variable over 2,000 characters', { ...valid, variables: { note: 'x'.repeat(2001) } }, 'variables'],
      ['a variable the category does not declare', { ...valid, variables: { tripTitel: 'x' } }, 'variables.tripTitel'],
      ['a money variable that is not an amount', { ...valid, variables: { amount: '480 €' } }, 'variables.amount'],
    ])('refuses %s with a VALIDATION_ERROR naming the field, and creates nothing', async (_case, body, field) => {
      const before = await countMails({});
      const res = await api().post('/v1/mails').set('X-Correlation-ID', 'bad-input-1').send(body).expect(400);
      expect(res.body).toMatchObject({
        name: 'VALIDATION_ERROR',
        debug_id: 'bad-input-1',
        message: expect.any(String),
        links: [],
      });
      expect(res.body.information_link).toBe(`${service.url}/docs/errors#VALIDATION_ERROR`);
      expect(res.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field, location: 'body', issue: expect.any(String) })]),
      );
      expect(await countMails({})).toBe(before);
    });

    it('names the variables a category allows when a name is not one of them', async () => {
      const res = await api()
        .post('/v1/mails')
        .send({ ...valid, variables: { tripTitel: 'Calanques', amount: 480 } })
        .expect(400);
      expect(res.body.details).toEqual([
        {
          field: 'variables.tripTitel',
          location: 'body',
          issue: 'is not a variable of CLIENT_PAYMENT_NOTIFICATION (allowed: amount, tripTitle)',
        },
      ]);
      const declared = await api().get('/v1/templates/CLIENT_PAYMENT_NOTIFICATION').expect(200);
      expect(declared.body.variables.map((v: { name: string }) => v.name)).toEqual(['amount', 'tripTitle']);
    });

    it('gives one detail per problem', async () => {
      const res = await api().post('/v1/mails').send({ receiversId: [], category: 'FOO', extra: 1 }).expect(400);
      const fields = (res.body.details as Array<{ field: string }>).map((d) => d.field).sort();
      expect(fields).toEqual(['category', 'extra', 'receiversId']);
      const category = res.body.details.find((d: { field: string }) => d.field === 'category');
      expect(category.value).toBe('FOO');
      expect(category.issue).toContain('PROFILE_COMPLETION_REQUEST');
    });

    it('refuses a category the service sends itself (400 naming category, nothing stored), alone and in a batch; such mails can still be listed', async () => {
      const before = await countMails({ category: 'CONVERSATION_UNREAD_MESSAGES' });
      const res = await api()
        .post('/v1/mails')
        .send({ receiversId: ['camille'], category: 'CONVERSATION_UNREAD_MESSAGES' })
        .expect(400);
      expect(res.body.details).toEqual([
        expect.objectContaining({
          field: 'category',
          value: 'CONVERSATION_UNREAD_MESSAGES',
          location: 'body',
          issue: expect.stringMatching(/sent by the service itself/),
        }),
      ]);
      expect(res.body.details[0].issue).toContain('PROFILE_COMPLETION_REQUEST');
      const batch = await api()
        .post('/v1/mails/batch')
        .send([{ receiversId: ['camille'], category: 'CONVERSATION_UNREAD_MESSAGES' }, valid])
        .expect(200);
      expect(batch.body.results.map((r: { status: number }) => r.status)).toEqual([400, 202]);
      expect(batch.body.results[0].error.details).toEqual([
        expect.objectContaining({ field: 'category', location: 'body' }),
      ]);
      expect(await countMails({ category: 'CONVERSATION_UNREAD_MESSAGES' })).toBe(before);
      const templates = await api().get('/v1/templates/CONVERSATION_UNREAD_MESSAGES').expect(200);
      expect(templates.body.category).toBe('CONVERSATION_UNREAD_MESSAGES');
    });

    it('refuses malformed JSON and a body that is not an object (400), and a body that is not JSON (415)', async () => {
      for (const [type, body, status, name] of [
        ['application/json', '{"receiversId": [', 400, 'MALFORMED_REQUEST'],
        ['text/plain', 'hello', 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['application/json', '[1,2]', 400, 'MALFORMED_REQUEST'],
      ] as const) {
        const res = await api().post('/v1/mails').set('Content-Type', type).send(body);
        expect([res.status, res.body.name]).toEqual([status, name]);
        expect(res.body.debug_id).toBe(res.headers['x-correlation-id']);
      }
    });

    it('refuses a __proto__ key (400 MALFORMED_REQUEST), which never pollutes objects', async () => {
      const body = '{"__proto__": {"polluted": true}, "receiversId": ["a"], "category": "PROFILE_COMPLETION_REQUEST"}';
      const res = await api().post('/v1/mails').set('Content-Type', 'application/json').send(body);
      expect([res.status, res.body.name]).toEqual([400, 'MALFORMED_REQUEST']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('refuses a body over 1 MB with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await api()
        .post('/v1/mails')
        .send({ ...valid, variables: { big: 'x'.repeat(1024 * 1024) } })
        .expect(413);
      expect(res.body.name).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first answer for the same key and body, and creates one mail', async () => {
      const body = { ...valid, reservationId: 'RES-IDEM-1' };
      const first = await api().post('/v1/mails').set('Idempotency-Key', 'key-1').send(body).expect(202);
      const second = await api()
        .post('/v1/mails')
        .set('Idempotency-Key', 'key-1')
        .send({ reservationId: 'RES-IDEM-1', category: body.category, receiversId: body.receiversId })
        .expect(202);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(second.body).toEqual(first.body);
      expect(second.headers.location).toBe(first.headers.location);
      expect(await countMails({ reservationId: 'RES-IDEM-1' })).toBe(1);
    });

    it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
      await api()
        .post('/v1/mails')
        .set('Idempotency-Key', 'key-2')
        .send({ ...valid, reservationId: 'RES-IDEM-2' })
        .expect(202);
      const res = await api()
        .post('/v1/mails')
        .set('Idempotency-Key', 'key-2')
        .send({ ...valid, reservationId: 'RES-IDEM-3' })
        .expect(422);
      expect(res.body.name).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await countMails({ reservationId: 'RES-IDEM-3' })).toBe(0);
    });

    it('does not keep a refused request: the key can be used again once the body is fixed', async () => {
      await api()
        .post('/v1/mails')
        .set('Idempotency-Key', 'key-3')
        .send({ ...valid, category: 'FOO' })
        .expect(400);
      await api().post('/v1/mails').set('Idempotency-Key', 'key-3').send(valid).expect(202);
    });

    it('refuses a key longer than 255 characters', async () => {
      const res = await api().post('/v1/mails').set('Idempotency-Key', 'k'.repeat(256)).send(valid).expect(400);
      expect(res.body.details[0]).toMatchObject({ field: 'Idempotency-Key', location: 'header' });
    });
  });

  describe('correlation id', () => {
    it('is echoed, stored on the mail, sent as a mail header and written in every log line of the request', async () => {
      const res = await api().post('/v1/mails').set('x-correlation-id', 'order-4711:attempt.1').send(valid).expect(202);
      expect(res.headers['x-correlation-id']).toBe('order-4711:attempt.1');
      expect(res.body.correlationId).toBe('order-4711:attempt.1');
      const [mail] = await inbox.waitFor((m) => m.parsed.headers.get('x-mail-id') === res.body.id);
      expect(mail.parsed.headers.get('x-correlation-id')).toBe('order-4711:attempt.1');
      await waitForMail(service.url, res.body.id, settled);
      // The worker logs the outcome once its write committed, a moment after the API shows it.
      const recorded = (line: Record<string, unknown>) =>
        line.msg === 'Delivery attempt recorded' && line.mailId === res.body.id;
      await waitUntil('the attempt logged', () => logs.lines.some(recorded), 5000);
      const mine = logs.lines.filter((line) => line.correlationId === 'order-4711:attempt.1');
      expect(mine.some((line) => line.msg === 'request completed')).toBe(true);
      expect(mine.some((line) => line.msg === 'Delivery attempt recorded')).toBe(true);
      // Every line about this mail, in the request or in the worker, carries the same id.
      const aboutMail = logs.lines.filter((line) => line.mailId === res.body.id);
      expect(aboutMail.length).toBeGreaterThan(0);
      expect(aboutMail.every((line) => line.correlationId === 'order-4711:attempt.1')).toBe(true);
    });

    it('is generated when absent or malformed', async () => {
      const absent = await api().get('/v1/mails').expect(200);
      expect(absent.headers['x-correlation-id']).toMatch(UUID);
      const malformed = await api().get('/v1/mails').set('X-Correlation-ID', 'has spaces and ünïcode').expect(200);
      expect(malformed.headers['x-correlation-id']).toMatch(UUID);
      const tooLong = await api().get('/v1/mails').set('X-Correlation-ID', 'a'.repeat(129)).expect(200);
      expect(tooLong.headers['x-correlation-id']).toMatch(UUID);
    });
  });

  describe('GET /v1/mails/{id} and unknown routes', () => {
    it('answers 404 RESOURCE_NOT_FOUND for an unknown id, a malformed id and an unknown route', async () => {
      for (const path of [
        '/v1/mails/5b0c3a5e-1d1e-4f7a-9c2b-2f0e0a0b0c0d',
        '/v1/mails/not-a-uuid',
        '/v1/nothing-here',
      ]) {
        const res = await api().get(path).set('X-Correlation-ID', 'nf-1').expect(404);
        expect(res.body).toMatchObject({ name: 'RESOURCE_NOT_FOUND', debug_id: 'nf-1', details: [], links: [] });
      }
    });
  });

  describe('GET /v1/mails', () => {
    beforeAll(async () => {
      for (let i = 0; i < 5; i++) {
        await api()
          .post('/v1/mails')
          .send({
            receiversId: ['list-a', `list-${i}`],
            category: 'TRIP_PUBLICATION_NOTIFICATION',
            publicationId: 'PUB-LIST',
          })
          .expect(202);
      }
      await api()
        .post('/v1/mails')
        .send({ receiversId: ['list-b'], category: 'ORGANIZATION_CREATION_REQUEST', organizationId: 'ORG-LIST' })
        .expect(202);
    });

    it('pages newest first with page links', async () => {
      const page1 = await api().get('/v1/mails').query({ publicationId: 'PUB-LIST', sizePage: 2 }).expect(200);
      expect(page1.body).toMatchObject({ totalElements: 5, totalPages: 3, currentPage: 1 });
      expect(page1.body.content).toHaveLength(2);
      const created = page1.body.content.map((m: { createdAt: string }) => m.createdAt);
      expect([...created].sort().reverse()).toEqual(created);
      const rels = Object.fromEntries(page1.body.links.map((l: { rel: string; href: string }) => [l.rel, l.href]));
      expect(Object.keys(rels).sort()).toEqual(['first', 'last', 'next', 'self']);
      expect(new URL(rels.next).searchParams.get('currentPage')).toBe('2');
      expect(new URL(rels.next).searchParams.get('publicationId')).toBe('PUB-LIST');
      expect(new URL(rels.last).searchParams.get('currentPage')).toBe('3');

      const page3 = await api()
        .get(new URL(rels.last).pathname + new URL(rels.last).search)
        .expect(200);
      expect(page3.body.content).toHaveLength(1);
      expect(page3.body.links.map((l: { rel: string }) => l.rel).sort()).toEqual(['first', 'last', 'prev', 'self']);
      const past = await api()
        .get('/v1/mails')
        .query({ publicationId: 'PUB-LIST', sizePage: 2, currentPage: 9 })
        .expect(200);
      expect(past.body).toMatchObject({ totalElements: 5, totalPages: 3, currentPage: 9, content: [] });
    });

    it('filters by receiver, category and creation time', async () => {
      expect(await countMails({ receiverId: 'list-a' })).toBe(5);
      expect(await countMails({ receiverId: 'list-3' })).toBe(1);
      expect(await countMails({ category: 'ORGANIZATION_CREATION_REQUEST', organizationId: 'ORG-LIST' })).toBe(1);
      expect(await countMails({ receiverId: 'list-a', from: '2100-01-01T00:00:00.000Z' })).toBe(0);
      expect(await countMails({ receiverId: 'list-a', until: '2100-01-01T00:00:00.000Z' })).toBe(5);
    });

    it.each([
      [{ sizePage: '101' }, 'sizePage'],
      [{ sizePage: '0' }, 'sizePage'],
      [{ currentPage: '0' }, 'currentPage'],
      [{ currentPage: 'two' }, 'currentPage'],
      [{ status: 'DONE' }, 'status'],
      [{ from: 'yesterday' }, 'from'],
      [{ unknown: 'x' }, 'unknown'],
    ])('refuses the query %j with a detail located in the query', async (query, field) => {
      const res = await api().get('/v1/mails').query(query).expect(400);
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, location: 'query' })]));
    });
  });
});
