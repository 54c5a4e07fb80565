import { readFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { settled, waitForMail, waitUntil } from './fixtures';

describe('Operations: health, metrics, OpenAPI, templates, recipients', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    inbox = await startInbox();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl });
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  describe('health and metrics', () => {
    it('is live, and ready while the database and the SMTP server answer', async () => {
      await request(service.url).get('/health').expect(200, { status: 'ok' });
      const ready = await request(service.url).get('/health/ready').expect(200);
      expect(ready.body.info).toMatchObject({ database: { status: 'up' }, smtp: { status: 'up' } });
    });

    it('stays ready (200) while the SMTP server is down, showing it down in the body and in smtp_up', async () => {
      await inbox.pause();
      try {
        // The relay's state is cached a few seconds: wait until the probe has seen it go.
        let ready = await request(service.url).get('/health/ready');
        await waitUntil(
          'the probe seeing the SMTP server down',
          async () => {
            ready = await request(service.url).get('/health/ready');
            return ready.body.details?.smtp?.status === 'down';
          },
          10_000,
          250,
        );
        expect(ready.status).toBe(200);
        expect(ready.body).toMatchObject({
          status: 'ok',
          info: { database: { status: 'up' } },
          details: { smtp: { status: 'down' } },
        });
        const metrics = await request(service.url).get('/metrics').expect(200);
        expect(metrics.text).toMatch(/^smtp_up 0$/m);
      } finally {
        await inbox.resume();
      }
    });

    it('exposes Prometheus metrics, mails accepted included', async () => {
      await request(service.url)
        .post('/v1/mails')
        .send({ receiversId: ['x'], category: 'PROFILE_COMPLETION_REQUEST' })
        .expect(202);
      const res = await request(service.url).get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/mails_accepted_total\{category="PROFILE_COMPLETION_REQUEST"\} [1-9]/);
      expect(res.text).toMatch(
        /http_request_duration_seconds_count\{method="POST",route="\/v1\/mails",status="202"\} [1-9]/,
      );
    });
  });

  describe('OpenAPI', () => {
    it('serves Swagger UI at /docs', async () => {
      const res = await request(service.url).get('/docs').redirects(1).expect(200);
      expect(res.text).toContain('swagger-ui');
    });

    it('serves at /docs-json exactly the committed openapi/communication.yaml (run `npm run openapi` after an API change)', async () => {
      const served = await request(service.url).get('/docs-json').expect(200);
      const committed = parse(readFileSync(join(__dirname, '..', 'openapi', 'communication.yaml'), 'utf8')) as unknown;
      expect(served.body).toEqual(committed);
    });
  });

  describe('error explanations', () => {
    it('serves /docs/errors with a section for the name of every error, where information_link points', async () => {
      const error = await request(service.url).get('/v1/mails/not-a-uuid').expect(404);
      const [page, anchor] = String(error.body.information_link).replace(service.url, '').split('#');
      const res = await request(service.url).get(page).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain(`id="${anchor}"`);
      for (const name of [
        'VALIDATION_ERROR',
        'CONFLICT',
        'PRECONDITION_FAILED',
        'IDEMPOTENCY_KEY_REUSED',
        'TOO_MANY_REQUESTS',
        'SERVICE_UNAVAILABLE',
      ])
        expect(res.text).toContain(`id="${name}"`);
    });
  });

  describe('templates', () => {
    it('lists the 18 categories of the contract and the service’s own (the unread digest, the contact mails), with what each requires, its variables and its subjects', async () => {
      const res = await request(service.url).get('/v1/templates').expect(200);
      expect(res.body.content).toHaveLength(22);
      const categories = res.body.content.map((t: { category: string }) => t.category);
      for (const own of ['CONVERSATION_UNREAD_MESSAGES', 'CONTACT_FORWARD', 'CONTACT_ACKNOWLEDGEMENT', 'CONTACT_REPLY'])
        expect(categories).toContain(own);
      // A contact mail has no button: the frontend has no page for contact threads.
      expect(res.body.content.find((t: { category: string }) => t.category === 'CONTACT_FORWARD')).toMatchObject({
        requiredIds: [],
        variables: [],
        buttonPath: null,
      });
      const booking = res.body.content.find(
        (t: { category: string }) => t.category === 'CLIENT_TRIP_BOOKING_NOTIFICATION',
      );
      expect(booking).toMatchObject({
        requiredIds: ['reservationId', 'publicationId'],
        buttonPath: '/reservations/{reservationId}',
      });
      expect(booking.subject.fr).not.toBe(booking.subject.en);
      expect(booking.links.map((l: { rel: string }) => l.rel)).toEqual(['self', 'preview-fr', 'preview-en']);
    });

    it('describes one category: required ids and declared variables with their type and example', async () => {
      const res = await request(service.url).get('/v1/templates/CLIENT_TRIP_BOOKING_NOTIFICATION').expect(200);
      expect(res.body.requiredIds).toEqual(['reservationId', 'publicationId']);
      expect(res.body.variables).toContainEqual({
        name: 'departureDate',
        type: 'date',
        required: false,
        description: expect.any(String),
        example: '2027-05-14',
      });
      expect(res.body.variables).toContainEqual(
        expect.objectContaining({ name: 'amount', type: 'money', example: { amount: 480, currency: 'EUR' } }),
      );
      expect(res.body.subject.en).toContain('RES-7731');
      await request(service.url).get('/v1/templates/NOPE').expect(404);
    });

    it('previews with the declared examples, written for the locale, as HTML or as text', async () => {
      const html = await request(service.url)
        .get('/v1/templates/CLIENT_TRIP_BOOKING_NOTIFICATION/preview?locale=en')
        .expect(200);
      expect(html.text).toContain('May 14, 2027');
      expect(html.text).toContain('€480.00');
      const text = await request(service.url)
        .get('/v1/templates/CLIENT_TRIP_BOOKING_NOTIFICATION/preview?locale=fr&format=text')
        .expect(200);
      expect(text.headers['content-type']).toMatch(/^text\/plain/);
      expect(text.text).toContain('14 mai 2027');
      expect(text.text).not.toContain('<');
    });

    it('previews a category as HTML in the asked locale, and 404s an unknown category', async () => {
      const res = await request(service.url)
        .get('/v1/templates/TRIP_REMINDER_NOTIFICATION/preview?locale=en')
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('lang="en"');
      expect(res.text).toContain('https://app.voyages.test/reservations/');
      await request(service.url).get('/v1/templates/NOPE/preview').expect(404);
      const bad = await request(service.url)
        .get('/v1/templates/TRIP_REMINDER_NOTIFICATION/preview?locale=de')
        .expect(400);
      expect(bad.body.details[0]).toMatchObject({ field: 'locale', location: 'query' });
    });
  });

  describe('recipient directory', () => {
    it('creates (201), replaces (200), reads and deletes a recipient', async () => {
      const created = await request(service.url)
        .put('/v1/recipients/user-7')
        .send({ email: 'lea@example.com', firstName: 'Léa' })
        .expect(201);
      expect(created.body).toMatchObject({
        id: 'user-7',
        email: 'lea@example.com',
        firstName: 'Léa',
        lastName: null,
        locale: null,
      });
      expect(created.headers.location).toBe(`${service.url}/v1/recipients/user-7`);
      const replaced = await request(service.url)
        .put('/v1/recipients/user-7')
        .send({ email: 'lea.dubois@example.com', locale: 'en' })
        .expect(200);
      expect(replaced.body).toMatchObject({
        email: 'lea.dubois@example.com',
        firstName: null,
        locale: 'en',
        createdAt: created.body.createdAt,
      });
      await request(service.url).get('/v1/recipients/user-7').expect(200);
      await request(service.url).delete('/v1/recipients/user-7').expect(204);
      await request(service.url).get('/v1/recipients/user-7').expect(404);
      await request(service.url).delete('/v1/recipients/user-7').expect(404);
    });

    it('refuses an invalid address', async () => {
      const res = await request(service.url).put('/v1/recipients/user-8').send({ email: 'not-an-address' }).expect(400);
      expect(res.body.details[0]).toMatchObject({ field: 'email', location: 'body' });
      await request(service.url).get('/v1/recipients/user-8').expect(404);
    });
  });

  describe('USER_DIRECTORY_URL', () => {
    let directory: Server;
    const calls: Array<{ url: string; headers: IncomingHttpHeaders }> = [];

    beforeAll(async () => {
      directory = createServer((req, res) => {
        calls.push({ url: req.url ?? '', headers: req.headers });
        if (req.url === '/users/remote-1')
          return void res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ email: 'remote@example.com', firstName: 'Rémi', locale: 'en' }));
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', resolve));
    });

    afterAll(() => new Promise<void>((resolve) => directory.close(() => resolve())));

    it('resolves receivers the table does not know, sends the correlation id and caches the answer', async () => {
      const port = (directory.address() as AddressInfo).port;
      const withDirectory = await startApp({
        databaseUrl: await createTestDatabase(),
        smtpUrl: inbox.smtpUrl,
        env: { USER_DIRECTORY_URL: `http://127.0.0.1:${port}/users` },
      });
      try {
        const first = await request(withDirectory.url)
          .post('/v1/mails')
          .set('X-Correlation-ID', 'dir-1')
          .send({ receiversId: ['remote-1', 'ghost'], category: 'PROFILE_COMPLETION_REQUEST' })
          .expect(202);
        const mail = await waitForMail(withDirectory.url, first.body.id, settled);
        expect(mail.deliveries).toEqual([
          expect.objectContaining({ receiverId: 'remote-1', status: 'SENT', email: 'r***@example.com' }),
          expect.objectContaining({
            receiverId: 'ghost',
            status: 'FAILED',
            error: expect.objectContaining({ code: 'RECIPIENT_NOT_FOUND' }),
          }),
        ]);
        const [received] = await inbox.waitFor((m) => m.parsed.headers.get('x-mail-id') === first.body.id);
        expect(received.envelopeTo).toEqual(['remote@example.com']);
        expect(received.parsed.text).toContain('Rémi');
        expect(received.parsed.html).toContain('lang="en"');
        const remoteCalls = calls.filter((c) => c.url === '/users/remote-1');
        expect(remoteCalls).toHaveLength(1);
        expect(remoteCalls[0].headers['x-correlation-id']).toBe('dir-1');

        const second = await request(withDirectory.url)
          .post('/v1/mails')
          .send({ receiversId: ['remote-1'], category: 'PROFILE_COMPLETION_REQUEST' })
          .expect(202);
        await waitForMail(withDirectory.url, second.body.id, settled);
        expect(calls.filter((c) => c.url === '/users/remote-1')).toHaveLength(1);
      } finally {
        await withDirectory.close();
      }
    });
  });
});
