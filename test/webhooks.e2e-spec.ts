import request from 'supertest';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { WebhookHttpClient } from '../src/webhooks/webhook-http.client';
import { MaintenanceJob } from '../src/queue/maintenance.job';
import { Queues } from '../src/queue/queues';
import { WEBHOOK_CALLS } from '../src/webhooks/webhook-call.handler';
import { putRecipients, settled, waitForMail, waitUntil } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { ReceivedCall, verifySignature, WebhookReceiver } from './webhook-receiver';

/**
 * Retries within seconds, so the backoff is seen in a test. Mail webhooks are rendered by the
 * worker, outside any request: their links come from PUBLIC_BASE_URL (as in production).
 */
const QUICK = {
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '1',
  DELIVERY_POLLING_INTERVAL_SECONDS: '1',
  PUBLIC_BASE_URL: 'https://api.voyages.test',
};

describe('Webhooks (real HTTP receiver on 127.0.0.1, real Postgres, real SMTP)', () => {
  let inbox: SmtpInbox;
  let receiver: WebhookReceiver;
  let service: TestApp;
  let databaseUrl: string;
  const api = () => request(service.url);

  beforeAll(async () => {
    inbox = await startInbox();
    receiver = new WebhookReceiver();
    await receiver.start();
    databaseUrl = await createTestDatabase();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: QUICK });
    await putRecipients(service.url, [{ id: 'hook-user', email: 'hook.user@example.com', firstName: 'Camille' }]);
  });

  afterEach(() => {
    receiver.answer = () => 200;
  });

  afterAll(async () => {
    await service?.close();
    await receiver?.stop();
    await inbox?.stop();
  });

  const register = async (path: string, events: string[]): Promise<{ id: string; secret: string }> => {
    const res = await api()
      .post('/v1/webhooks')
      .send({ url: receiver.url(path), events, description: path })
      .expect(201);
    return res.body as { id: string; secret: string };
  };
  const sendMail = async (correlationId: string): Promise<string> => {
    const res = await api()
      .post('/v1/mails')
      .set('X-Correlation-ID', correlationId)
      .send({ receiversId: ['hook-user'], category: 'PROFILE_COMPLETION_REQUEST' })
      .expect(202);
    return (res.body as { id: string }).id;
  };
  const onPath = (path: string) => (call: ReceivedCall) => call.path === path;

  it('registers, shows, changes and deletes an endpoint; the secret is shown once', async () => {
    const created = await api()
      .post('/v1/webhooks')
      .send({ url: receiver.url('/crud'), events: ['mail.sent', 'mail.sent', 'mail.failed'] })
      .expect(201);
    const body = created.body as {
      id: string;
      secret: string;
      events: string[];
      enabled: boolean;
      links: Array<{ rel: string }>;
    };
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(body).toMatchObject({ events: ['mail.sent', 'mail.failed'], enabled: true, description: null });
    expect(created.headers.location).toBe(`https://api.voyages.test/v1/webhooks/${body.id}`);
    expect(body.links.map((l) => l.rel)).toEqual(['self', 'update', 'deliveries', 'delete']);

    const shown = await api().get(`/v1/webhooks/${body.id}`).expect(200);
    expect(shown.body).not.toHaveProperty('secret');
    const listed = await api().get('/v1/webhooks').expect(200);
    expect(
      (listed.body as { content: Array<{ id: string; secret?: string }> }).content.find((w) => w.id === body.id),
    ).toMatchObject({ id: body.id });
    expect(JSON.stringify(listed.body)).not.toContain(body.secret);

    const patched = await api()
      .patch(`/v1/webhooks/${body.id}`)
      .send({ events: ['mail.cancelled'], enabled: false })
      .expect(200);
    expect(patched.body).toMatchObject({ events: ['mail.cancelled'], enabled: false, url: receiver.url('/crud') });
    await api()
      .patch(`/v1/webhooks/${body.id}`)
      .send({ events: ['mail.unknown'] })
      .expect(400);
    await api()
      .post('/v1/webhooks')
      .send({ url: receiver.url('/x'), events: [] })
      .expect(400);
    await api().delete(`/v1/webhooks/${body.id}`).expect(204);
    await api().get(`/v1/webhooks/${body.id}`).expect(404);
    await api().delete(`/v1/webhooks/${body.id}`).expect(404);
  });

  it('refuses null for url, events and enabled (400 naming the field, nothing changed); null clears the description', async () => {
    const created = await api()
      .post('/v1/webhooks')
      .send({ url: receiver.url('/nulls'), events: ['mail.sent'], description: 'Booking' })
      .expect(201);
    const id = (created.body as { id: string }).id;
    const stored = (await api().get(`/v1/webhooks/${id}`).expect(200)).body as Record<string, unknown>;
    for (const field of ['url', 'events', 'enabled']) {
      const res = await api()
        .patch(`/v1/webhooks/${id}`)
        .send({ [field]: null });
      expect([field, res.status, res.body.name]).toEqual([field, 400, 'VALIDATION_ERROR']);
      expect(res.body.details).toEqual([
        { field, value: 'null', location: 'body', issue: expect.stringMatching(/must not be null/) },
      ]);
    }
    expect((await api().get(`/v1/webhooks/${id}`).expect(200)).body).toEqual(stored);

    const cleared = await api().patch(`/v1/webhooks/${id}`).send({ description: null }).expect(200);
    expect(cleared.body).toMatchObject({
      description: null,
      url: receiver.url('/nulls'),
      events: ['mail.sent'],
      enabled: true,
    });
    expect((await api().get(`/v1/webhooks/${id}`).expect(200)).body).toMatchObject({ description: null });
    await api().delete(`/v1/webhooks/${id}`).expect(204);
  });

  it('signs each call as Standard Webhooks do, carries the correlation id, sends the mail as the API shows it, and nothing unsubscribed', async () => {
    const { id, secret } = await register('/signed', ['mail.sent', 'mail.delivery.sent']);
    const other = await register('/contacts', ['contact.created']);
    await api()
      .post('/v1/contacts')
      .send({ name: 'Ana', mail: 'ana@example.com', object: 'Question', message: 'Bonjour' })
      .expect(201);
    const mailId = await sendMail('hooks-corr-1');
    await waitForMail(service.url, mailId, settled);

    // Contact mails are mails too (contract A2): the contact's own mails send their mail.* events here as well.
    const ofMail = (c: ReceivedCall): boolean =>
      c.path === '/signed' && (c.json.data.id === mailId || c.json.data.mailId === mailId);
    const calls = await receiver.waitFor(2, ofMail);
    expect(calls.map((c) => c.json.type).sort()).toEqual(['mail.delivery.sent', 'mail.sent']);
    for (const call of calls) {
      expect(verifySignature(secret, call.headers, call.body)).toBe(true);
      expect(verifySignature(other.secret, call.headers, call.body)).toBe(false);
      expect(call.headers['webhook-id']).toMatch(/^msg_\d+$/);
      expect(Math.abs(Number(call.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(call.headers['x-correlation-id']).toBe('hooks-corr-1');
      expect(call.headers['content-type']).toBe('application/json');
    }
    const sent = calls.find((c) => c.json.type === 'mail.sent')!;
    const shown = (await api().get(`/v1/mails/${mailId}`).expect(200)).body as Record<string, unknown>;
    expect(sent.json.data).toEqual(shown);
    expect(sent.json.data).toMatchObject({ id: mailId, status: 'SENT' });
    expect(new Date(sent.json.timestamp).toISOString()).toBe(sent.json.timestamp);
    const delivery = calls.find((c) => c.json.type === 'mail.delivery.sent')!;
    expect(delivery.json.data).toMatchObject({
      mailId,
      receiverId: 'hook-user',
      status: 'SENT',
      email: 'h***@example.com',
    });
    expect(calls[0].headers['webhook-id']).not.toBe(calls[1].headers['webhook-id']);

    // The contact event went to the endpoint that asked for it, and only there.
    const [contact] = await receiver.waitFor(1, onPath('/contacts'));
    expect(contact.json).toMatchObject({ type: 'contact.created', data: { name: 'Ana', object: 'Question' } });
    expect(receiver.calls.filter(onPath('/signed')).map((c) => c.json.type)).not.toContain('contact.created');
    const log = await api().get(`/v1/webhooks/${id}/deliveries`).expect(200);
    const logged = (log.body as { content: Array<{ type: string; status: string }> }).content;
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(logged.filter((d) => d.status !== 'SUCCEEDED')).toEqual([]);
  });

  it('retries after 500s with the same webhook-id, logs every attempt newest first, and redelivers on request', async () => {
    const { id } = await register('/flaky', ['mail.sent']);
    let failures = 2;
    receiver.answer = (call) => (call.path === '/flaky' && failures-- > 0 ? 500 : 200);
    await sendMail('hooks-retry');
    const calls = await receiver.waitFor(3, onPath('/flaky'));
    expect(new Set(calls.map((c) => c.headers['webhook-id'])).size).toBe(1);

    const log = (await api().get(`/v1/webhooks/${id}/deliveries`).expect(200)).body as {
      totalElements: number;
      content: Array<{
        id: string;
        webhookId: string;
        attempt: number;
        status: string;
        responseStatus: number;
        responseExcerpt: string;
        durationMs: number;
        type: string;
      }>;
    };
    expect(log.content.map((d) => [d.attempt, d.status, d.responseStatus])).toEqual([
      [3, 'SUCCEEDED', 200],
      [2, 'FAILED', 500],
      [1, 'FAILED', 500],
    ]);
    expect(log.content[0]).toMatchObject({
      webhookId: calls[0].headers['webhook-id'],
      type: 'mail.sent',
      responseExcerpt: 'received mail.sent',
    });
    const failed = await api().get(`/v1/webhooks/${id}/deliveries?status=FAILED`).expect(200);
    expect((failed.body as { totalElements: number }).totalElements).toBe(2);

    const redeliver = `/v1/webhooks/${id}/deliveries/${log.content[2].id}/redeliver`;
    const first = await api().post(redeliver).set('Idempotency-Key', 'redeliver-flaky').expect(202);
    const again = await receiver.waitFor(4, onPath('/flaky'));
    expect(again[3].headers['webhook-id']).toBe(calls[0].headers['webhook-id']);
    // The same key again: the first answer (a 202 without a body), and no other redelivery queued.
    const logged = async (): Promise<number> =>
      ((await api().get(`/v1/webhooks/${id}/deliveries`).expect(200)).body as { totalElements: number }).totalElements;
    const before = await logged();
    const replay = await api().post(redeliver).set('Idempotency-Key', 'redeliver-flaky').expect(202);
    expect([replay.headers['idempotent-replayed'], replay.text]).toEqual(['true', first.text]);
    expect(await logged()).toBe(before);
    await api().post(`/v1/webhooks/${id}/deliveries/6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87/redeliver`).expect(404);
  });

  it('deletes finished deliveries and their log after 30 days, never pending ones', async () => {
    const { id } = await register('/old', ['mail.sent']);
    await sendMail('hooks-old');
    await receiver.waitFor(1, onPath('/old'));
    const dataSource = service.app.get<DataSource>(getDataSourceToken());
    await waitUntil(
      'the call recorded',
      async () => (await dataSource.query(`SELECT 1 FROM webhook_attempt WHERE endpoint_id = $1`, [id])).length > 0,
    );
    await dataSource.query(`UPDATE webhook_delivery SET event_at = now() - interval '31 days' WHERE endpoint_id = $1`, [
      id,
    ]);
    await dataSource.query(
      `INSERT INTO webhook_delivery (endpoint_id, event_id, type, data, event_at, status, due_at) VALUES ($1, 0, 'mail.sent', '{}', now() - interval '31 days', 'PENDING', now() + interval '1 hour')`,
      [id],
    );
    expect((await service.app.get(MaintenanceJob).run()).webhookCalls).toBe(1);
    expect(await dataSource.query(`SELECT status FROM webhook_delivery WHERE endpoint_id = $1`, [id])).toEqual([
      { status: 'PENDING' },
    ]);
    expect(
      ((await api().get(`/v1/webhooks/${id}/deliveries`).expect(200)).body as { totalElements: number }).totalElements,
    ).toBe(0);
    await api().delete(`/v1/webhooks/${id}`).expect(204);
  });

  it('disables an endpoint whose calls have all failed for 3 days', async () => {
    const { id } = await register('/dead', ['mail.sent']);
    receiver.answer = (call) => (call.path === '/dead' ? 503 : 200);
    const dataSource = service.app.get<DataSource>(getDataSourceToken());
    await dataSource.query(`UPDATE webhook_endpoint SET failing_since = now() - interval '73 hours' WHERE id = $1`, [
      id,
    ]);
    await sendMail('hooks-dead');
    await receiver.waitFor(1, onPath('/dead'));
    let endpoint: { enabled: boolean; disabledReason: string | null } = { enabled: true, disabledReason: null };
    await waitUntil('the endpoint disabled', async () => {
      endpoint = (await api().get(`/v1/webhooks/${id}`).expect(200)).body as typeof endpoint;
      return !endpoint.enabled;
    });
    expect(endpoint).toMatchObject({ enabled: false, disabledReason: 'Every call failed for 72 hours.' });
    // Enabling it again starts a new streak.
    const enabled = await api().patch(`/v1/webhooks/${id}`).send({ enabled: true }).expect(200);
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    await api().patch(`/v1/webhooks/${id}`).send({ enabled: false }).expect(200);
  });

  it('loses no webhook across a restart: events queued while no worker runs are sent by the next one', async () => {
    await service.close();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { ...QUICK, RUN_MODE: 'api' } });
    const { id } = await register('/restart', ['mail.cancelled']);
    const mail = await api()
      .post('/v1/mails')
      .set('X-Correlation-ID', 'hooks-restart')
      .send({
        receiversId: ['hook-user'],
        category: 'PROFILE_COMPLETION_REQUEST',
        scheduledAt: new Date(Date.now() + 3_600_000).toISOString(),
      })
      .expect(202);
    await api()
      .delete(`/v1/mails/${(mail.body as { id: string }).id}`)
      .set('X-Correlation-ID', 'hooks-cancel')
      .expect(200);
    // The call is queued, and nothing in this process calls: its webhook runner was never started.
    const dataSource = service.app.get<DataSource>(getDataSourceToken());
    expect(
      await dataSource.query(`SELECT type, status, attempts FROM webhook_delivery WHERE endpoint_id = $1`, [id]),
    ).toEqual([{ type: 'mail.cancelled', status: 'PENDING', attempts: 0 }]);
    expect(service.app.get(Queues).runner(WEBHOOK_CALLS)).toMatchObject({ started: false, inHand: 0 });
    expect(receiver.calls.filter(onPath('/restart'))).toHaveLength(0);
    await service.close();

    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: QUICK });
    const [call] = await receiver.waitFor(1, onPath('/restart'));
    expect(call.json).toMatchObject({
      type: 'mail.cancelled',
      data: { id: (mail.body as { id: string }).id, status: 'CANCELLED' },
    });
    expect(call.headers['x-correlation-id']).toBe('hooks-cancel');
    await api().delete(`/v1/webhooks/${id}`).expect(204);
  });

  it('lets a stalled endpoint hold only its share of the calls: the others get all theirs meanwhile', async () => {
    const stalled = new WebhookReceiver();
    stalled.answer = () => null;
    await stalled.start();
    const shared = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      env: { ...QUICK, WEBHOOK_CONCURRENCY: '4', WEBHOOK_ENDPOINT_CONCURRENCY: '2' },
    });
    try {
      await request(shared.url)
        .post('/v1/webhooks')
        .send({ url: stalled.url('/stalled'), events: ['contact.created'] })
        .expect(201);
      await request(shared.url)
        .post('/v1/webhooks')
        .send({ url: receiver.url('/healthy'), events: ['contact.created'] })
        .expect(201);
      for (let i = 0; i < 8; i++) {
        await request(shared.url)
          .post('/v1/contacts')
          .send({ name: `N${i}`, mail: `n${i}@example.com`, object: 'Load', message: 'x' })
          .expect(201);
      }
      const healthy = await receiver.waitFor(8, onPath('/healthy'));
      expect(new Set(healthy.map((c) => c.json.data.name)).size).toBe(8);
      // Every call to the stalled endpoint is still waiting for its answer: it holds its share only.
      expect(stalled.calls.length).toBeLessThanOrEqual(2 * 2);
    } finally {
      await shared.close();
      await stalled.stop();
    }
  });

  it('keeps secrets encrypted at rest when WEBHOOK_SECRET_KEY is set, and still signs with them', async () => {
    const encrypted = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      env: { ...QUICK, WEBHOOK_SECRET_KEY: Buffer.alloc(32, 42).toString('base64') },
    });
    try {
      const created = await request(encrypted.url)
        .post('/v1/webhooks')
        .send({ url: receiver.url('/sealed'), events: ['contact.created'] })
        .expect(201);
      const { id, secret } = created.body as { id: string; secret: string };
      const [row] = (await encrypted.app
        .get<DataSource>(getDataSourceToken())
        .query('SELECT secret FROM webhook_endpoint WHERE id = $1', [id])) as Array<{ secret: string }>;
      expect(row.secret).toMatch(/^aes256gcm:/);
      expect(row.secret).not.toContain(secret.slice('whsec_'.length));
      await request(encrypted.url)
        .post('/v1/contacts')
        .send({ name: 'Noor', mail: 'noor@example.com', object: 'Sealed', message: 'x' })
        .expect(201);
      const [call] = await receiver.waitFor(1, onPath('/sealed'));
      expect(verifySignature(secret, call.headers, call.body)).toBe(true);
    } finally {
      await encrypted.close();
    }
  });

  describe('SSRF protection (WEBHOOK_ALLOW_PRIVATE_TARGETS=false, the production setting)', () => {
    let strict: TestApp;

    beforeAll(async () => {
      strict = await startApp({
        databaseUrl: await createTestDatabase(),
        smtpUrl: inbox.smtpUrl,
        env: { ...QUICK, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' },
      });
    });

    afterAll(async () => {
      await strict?.close();
    });

    it.each([
      '127.0.0.1',
      '127.1',
      '2130706433',
      '0x7f.0.0.1',
      '[::ffff:127.0.0.1]',
      '[::1]',
      'localhost',
      'localhost.',
    ])('refuses a target at %s when it is registered', async (host) => {
      const res = await request(strict.url)
        .post('/v1/webhooks')
        .send({ url: `http://${host}:${receiver.port}/ssrf`, events: ['mail.sent'] })
        .expect(400);
      expect(res.body).toMatchObject({ name: 'VALIDATION_ERROR', details: [{ field: 'url', location: 'body' }] });
      expect((res.body as { details: Array<{ issue: string }> }).details[0].issue).toMatch(
        /^resolves to (127\.0\.0\.1|::1|::ffff:7f00:1), which is a loopback/,
      );
    });

    it('refuses a name that resolves to 127.0.0.1, and checks again at each call (DNS can change), without connecting', async () => {
      const client = strict.app.get(WebhookHttpClient);
      let answer = '93.184.216.34';
      // The only stub of the spec: DNS. No connection is ever opened to the public address (the
      // endpoint is never called while the name resolves to it, no event being written then).
      client.useResolver(async () => [answer]);
      answer = '127.0.0.1';
      await request(strict.url)
        .post('/v1/webhooks')
        .send({ url: `http://hooks.rebind.test:${receiver.port}/ssrf`, events: ['contact.created'] })
        .expect(400);

      answer = '93.184.216.34';
      const created = await request(strict.url)
        .post('/v1/webhooks')
        .send({ url: `http://hooks.rebind.test:${receiver.port}/ssrf`, events: ['contact.created'] })
        .expect(201);
      answer = '127.0.0.1';
      await request(strict.url)
        .post('/v1/contacts')
        .send({ name: 'Eve', mail: 'eve@example.com', object: 'Rebind', message: 'x' })
        .expect(201);
      let log: { content: Array<{ status: string; responseStatus: number | null; responseExcerpt: string }> } = {
        content: [],
      };
      await waitUntil('the refused call in the log', async () => {
        log = (
          await request(strict.url)
            .get(`/v1/webhooks/${(created.body as { id: string }).id}/deliveries`)
            .expect(200)
        ).body as typeof log;
        return log.content.length > 0;
      });
      expect(log.content[0]).toMatchObject({ status: 'FAILED', responseStatus: null });
      expect(log.content[0].responseExcerpt).toMatch(
        /^Not called: the URL resolves to 127\.0\.0\.1, which is a loopback/,
      );
      expect(receiver.calls.filter(onPath('/ssrf'))).toHaveLength(0);
    });

    it('refuses plain schemes other than http(s)', async () => {
      await request(strict.url)
        .post('/v1/webhooks')
        .send({ url: 'file:///etc/passwd', events: ['mail.sent'] })
        .expect(400);
      await request(strict.url)
        .post('/v1/webhooks')
        .send({ url: 'gopher://127.0.0.1:70/', events: ['mail.sent'] })
        .expect(400);
    });
  });
});
