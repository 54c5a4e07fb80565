import request from 'supertest';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { MaintenanceJob } from '../src/queue/maintenance.job';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

/** The one maintenance job: every retention deletes what is past its time and keeps the rest. */
describe('MaintenanceJob (real Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    inbox = await startInbox();
    // API only: no worker claims the rows written below.
    service = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      env: { RUN_MODE: 'api' },
    });
    db = service.app.get<DataSource>(getDataSourceToken());
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await db.query(`SELECT count(*)::int AS n FROM ${sql}`, params))[0].n);

  it('deletes events, webhook calls, rate-limit counters, idempotency keys and inbound messages past their retention, in batches, and keeps the rest', async () => {
    // Events: a backlog larger than one batch past 24 hours, one just inside.
    await db.query(
      `INSERT INTO event (type, data, created_at) SELECT 'contact.created', '{}', now() - interval '25 hours' FROM generate_series(1, 2500)`,
    );
    await db.query(
      `INSERT INTO event (type, data, created_at) VALUES ('contact.created', '{"keep": true}', now() - interval '23 hours')`,
    );

    // Webhook calls: finished past 30 days go with their log; pending ones and recent ones stay.
    const endpoint = (
      await request(service.url)
        .post('/v1/webhooks')
        .send({ url: 'http://127.0.0.1:9/old', events: ['mail.sent'] })
        .expect(201)
    ).body as { id: string };
    const call = async (status: string, age: string): Promise<string> =>
      (
        await db.query(
          `INSERT INTO webhook_delivery (endpoint_id, event_id, type, data, event_at, status, due_at) VALUES ($1, 0, 'mail.sent', '{}', now() - $2::interval, $3, now()) RETURNING id`,
          [endpoint.id, age, status],
        )
      )[0].id;
    const oldSucceeded = await call('SUCCEEDED', '31 days');
    await call('FAILED', '31 days');
    const oldPending = await call('PENDING', '31 days');
    const recent = await call('SUCCEEDED', '29 days');
    await db.query(
      `INSERT INTO webhook_attempt (delivery_id, endpoint_id, attempt, status, response_status, duration_ms, response_excerpt, attempted_at)
       VALUES ($1, $2, 1, 'SUCCEEDED', 200, 5, 'ok', now() - interval '31 days'), ($3, $2, 1, 'SUCCEEDED', 200, 5, 'ok', now())`,
      [oldSucceeded, endpoint.id, recent],
    );

    // Rate-limit counters (expire in ms): ended over a minute ago, ended just now, still counting.
    await db.query(
      `INSERT INTO rate_limit (key, points, expire) VALUES
         ('ended', 3, (extract(epoch FROM now()) * 1000)::bigint - 120000),
         ('just-ended', 3, (extract(epoch FROM now()) * 1000)::bigint - 1000),
         ('counting', 3, (extract(epoch FROM now()) * 1000)::bigint + 60000)`,
    );

    // Idempotency keys: past 24 hours (free again), and still replayed.
    await db.query(
      `INSERT INTO idempotency_key (caller, scope, key, request_hash, created_at) VALUES
         ('svc', 'POST /v1/mails', 'old', 'h', now() - interval '25 hours'), ('svc', 'POST /v1/mails', 'recent', 'h', now() - interval '23 hours')`,
    );

    // Inbound messages: past INBOUND_RETENTION_DAYS (30 by default), and still kept.
    await db.query(
      `INSERT INTO inbound_message (id, kind, via, to_addresses, dedupe_key, size, raw, received_at) VALUES
         (gen_random_uuid(), 'AUTO_REPLY', 'SMTP', '{}', 'old', 1, 'x', now() - interval '31 days'),
         (gen_random_uuid(), 'AUTO_REPLY', 'SMTP', '{}', 'recent', 1, 'x', now() - interval '29 days')`,
    );

    expect(await service.app.get(MaintenanceJob).run()).toEqual({
      events: 2500,
      webhookCalls: 2,
      rateLimits: 1,
      idempotencyKeys: 1,
      inboundMessages: 1,
      mails: 0,
      conversationMessages: 0,
    });

    expect(await db.query(`SELECT data FROM event`)).toEqual([{ data: { keep: true } }]);
    expect(
      (await db.query(`SELECT id FROM webhook_delivery ORDER BY id`)).map((r: { id: string }) => r.id).sort(),
    ).toEqual([oldPending, recent].sort());
    expect(await db.query(`SELECT delivery_id FROM webhook_attempt`)).toEqual([{ delivery_id: recent }]);
    expect((await db.query(`SELECT key FROM rate_limit ORDER BY key`)).map((r: { key: string }) => r.key)).toEqual([
      'counting',
      'just-ended',
    ]);
    expect((await db.query(`SELECT key FROM idempotency_key`)).map((r: { key: string }) => r.key)).toEqual(['recent']);
    expect(await db.query(`SELECT dedupe_key FROM inbound_message`)).toEqual([{ dedupe_key: 'recent' }]);

    // Nothing left past its time: a second run deletes nothing.
    expect(await service.app.get(MaintenanceJob).run()).toEqual({
      events: 0,
      webhookCalls: 0,
      rateLimits: 0,
      idempotencyKeys: 0,
      inboundMessages: 0,
      mails: 0,
      conversationMessages: 0,
    });
    expect(await count('event')).toBe(1);
  });
});
