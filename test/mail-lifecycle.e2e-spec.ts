import { Client } from 'pg';
import request from 'supertest';
import { ReceivedMail, SmtpInbox } from '../src/delivery/smtp-inbox';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { claimedThrough, deliveriesAtRest, MailBody, putRecipients, settled, waitForMail, waitUntil } from './fixtures';

const byMailId = (id: string) => (mail: ReceivedMail) => mail.parsed.headers.get('x-mail-id') === id;
const reminder = (extra: Record<string, unknown> = {}) => ({
  category: 'TRIP_REMINDER_NOTIFICATION',
  receiversId: ['camille'],
  reservationId: 'RES-1',
  publicationId: 'PUB-1',
  ...extra,
});
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
const rels = (mail: MailBody) => mail.links.map((link) => link.rel).sort();

/** Scheduling, cancelling, rescheduling, batches, retries and attempts of mails, end to end. */
describe('Mail lifecycle (real Postgres, real SMTP)', () => {
  let databaseUrl: string;
  let inbox: SmtpInbox;
  let service: TestApp;
  let db: Client;
  const api = () => request(service.url);

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    inbox = await startInbox();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { DELIVERY_MAX_ATTEMPTS: '3' } });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await putRecipients(service.url, [
      { id: 'camille', email: 'camille@example.com', firstName: 'Camille' },
      { id: 'john', email: 'john@example.com', firstName: 'John', locale: 'en' },
      { id: 'busy', email: 'busy@example.com' },
    ]);
  });

  afterAll(async () => {
    await db?.end();
    await service?.close();
    await inbox?.stop();
  });

  afterEach(() => {
    inbox.recipientPolicy = () => undefined;
  });

  it('holds a scheduled mail until its time, then sends it', async () => {
    const res = await api()
      .post('/v1/mails')
      .send(reminder({ scheduledAt: inSeconds(3) }))
      .expect(202);
    expect(res.body).toMatchObject({
      status: 'SCHEDULED',
      scheduledAt: expect.any(String),
      deliveries: [expect.objectContaining({ status: 'SCHEDULED', nextAttemptAt: res.body.scheduledAt })],
    });
    expect(rels(res.body)).toEqual(['cancel', 'reschedule', 'self']);
    // The workers have claimed what is due now (oldest due first): the scheduled mail was not.
    await claimedThrough(service.url, 'john');
    expect(inbox.messages.filter(byMailId(res.body.id))).toHaveLength(0);
    expect((await api().get(`/v1/mails/${res.body.id}`).expect(200)).body).toMatchObject({
      status: 'SCHEDULED',
      deliveries: [expect.objectContaining({ status: 'SCHEDULED', attempts: 0 })],
    });
    const [received] = await inbox.waitFor(byMailId(res.body.id), 1, 15_000);
    const mail = await waitForMail(service.url, res.body.id, settled);
    expect(mail.status).toBe('SENT');
    expect(new Date(received.receivedAt).getTime()).toBeGreaterThanOrEqual(new Date(res.body.scheduledAt).getTime());
    expect(rels(mail)).toEqual(['self']);
  });

  it('refuses a scheduledAt in the past or not a date', async () => {
    for (const scheduledAt of [new Date(Date.now() - 60_000).toISOString(), 'tomorrow']) {
      const res = await api().post('/v1/mails').send(reminder({ scheduledAt })).expect(400);
      expect(res.body).toMatchObject({
        name: 'VALIDATION_ERROR',
        details: [expect.objectContaining({ field: 'scheduledAt', location: 'body' })],
      });
    }
  });

  it('reschedules a scheduled mail, and refuses once it is no longer scheduled', async () => {
    const res = await api()
      .post('/v1/mails')
      .send(reminder({ scheduledAt: inSeconds(3600) }))
      .expect(202);
    const later = inSeconds(7200);
    const moved = await api().patch(`/v1/mails/${res.body.id}`).send({ scheduledAt: later }).expect(200);
    expect(moved.body).toMatchObject({
      status: 'SCHEDULED',
      scheduledAt: later,
      deliveries: [expect.objectContaining({ nextAttemptAt: later })],
    });
    await api().patch(`/v1/mails/${res.body.id}`).send({ scheduledAt: '2001-01-01T00:00:00.000Z' }).expect(400);
    await api().patch(`/v1/mails/${res.body.id}`).send({ scheduledAt: later, extra: 1 }).expect(400);

    const now = await api().post('/v1/mails').send(reminder()).expect(202);
    await waitForMail(service.url, now.body.id, settled);
    const refused = await api().patch(`/v1/mails/${now.body.id}`).send({ scheduledAt: later }).expect(409);
    expect(refused.body.name).toBe('CONFLICT');
    await api().patch('/v1/mails/00000000-0000-4000-8000-000000000000').send({ scheduledAt: later }).expect(404);
  });

  it('cancels a mail that has sent nothing, never sends it, and refuses to cancel a sent one', async () => {
    const res = await api()
      .post('/v1/mails')
      .send(reminder({ scheduledAt: inSeconds(2) }))
      .expect(202);
    const cancelled = await api().delete(`/v1/mails/${res.body.id}`).expect(200);
    expect(cancelled.body).toMatchObject({
      status: 'CANCELLED',
      deliveries: [expect.objectContaining({ status: 'CANCELLED', nextAttemptAt: null })],
    });
    expect(rels(cancelled.body)).toEqual(['self']);
    await api().delete(`/v1/mails/${res.body.id}`).expect(409);

    const sent = await api().post('/v1/mails').send(reminder()).expect(202);
    await waitForMail(service.url, sent.body.id, settled);
    expect((await api().delete(`/v1/mails/${sent.body.id}`).expect(409)).body.name).toBe('CONFLICT');
    // Past its time, the workers have claimed what was due by then (oldest due first): never the cancelled mail.
    await claimedThrough(service.url, 'john', new Date(Date.parse(res.body.scheduledAt) + 1));
    await deliveriesAtRest(databaseUrl);
    expect((await api().get(`/v1/mails/${res.body.id}`).expect(200)).body).toMatchObject({
      status: 'CANCELLED',
      deliveries: [expect.objectContaining({ status: 'CANCELLED', attempts: 0 })],
    });
    expect(inbox.messages.filter(byMailId(res.body.id))).toHaveLength(0);
  });

  it('cancels every unsent mail of a booking in one call, and only those', async () => {
    const reservationId = 'RES-CANCELLED';
    const reminders = [];
    for (const hours of [24, 48]) {
      reminders.push(
        (
          await api()
            .post('/v1/mails')
            .send(reminder({ reservationId, scheduledAt: inSeconds(hours * 3600) }))
            .expect(202)
        ).body.id,
      );
    }
    const payment = (
      await api()
        .post('/v1/mails')
        .send({
          category: 'CLIENT_PAYMENT_NOTIFICATION',
          receiversId: ['john'],
          reservationId,
          scheduledAt: inSeconds(3600),
        })
        .expect(202)
    ).body.id;
    const other = (
      await api()
        .post('/v1/mails')
        .send(reminder({ reservationId: 'RES-KEPT', scheduledAt: inSeconds(3600) }))
        .expect(202)
    ).body.id;

    const onlyReminders = await api()
      .post('/v1/mails/cancellations')
      .send({ reservationId, categories: ['TRIP_REMINDER_NOTIFICATION'] })
      .expect(200);
    expect(onlyReminders.body.count).toBe(2);
    expect([...onlyReminders.body.mailIds].sort()).toEqual([...reminders].sort());
    const rest = await api().post('/v1/mails/cancellations').send({ reservationId }).expect(200);
    expect(rest.body).toEqual({ count: 1, mailIds: [payment], requestedMailIds: [] });
    expect((await api().get(`/v1/mails/${other}`).expect(200)).body.status).toBe('SCHEDULED');
    expect((await api().post('/v1/mails/cancellations').send({ reservationId }).expect(200)).body).toEqual({
      count: 0,
      mailIds: [],
      requestedMailIds: [],
    });

    const none = await api()
      .post('/v1/mails/cancellations')
      .send({ categories: ['TRIP_REMINDER_NOTIFICATION'] })
      .expect(400);
    expect(none.body.name).toBe('VALIDATION_ERROR');
  });

  it('never both sends and cancels: racing cancellations against the worker', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++)
      ids.push(
        (
          await api()
            .post('/v1/mails')
            .send(reminder({ reservationId: `RACE-${i}` }))
            .expect(202)
        ).body.id,
      );
    const answers = await Promise.all(
      ids.map((_, i) =>
        api()
          .post('/v1/mails/cancellations')
          .send({ reservationId: `RACE-${i}` }),
      ),
    );
    const cancelled = new Set(answers.flatMap((a) => a.body.mailIds as string[]));
    const requested = new Set(answers.flatMap((a) => a.body.requestedMailIds as string[]));
    const mails = [];
    for (const id of ids) mails.push(await waitForMail(service.url, id, settled));
    await deliveriesAtRest(databaseUrl);
    for (const mail of mails) {
      // Cancelled at once: never sent. Reached in an attempt: SENT only if the relay took that copy.
      if (cancelled.has(mail.id)) expect(mail.status).toBe('CANCELLED');
      else if (!requested.has(mail.id)) expect(mail.status).toBe('SENT');
      expect(inbox.messages.filter(byMailId(mail.id))).toHaveLength(mail.status === 'SENT' ? 1 : 0);
    }
  });

  it('accepts a batch in one request: one answer per index, valid events stored even when others are not', async () => {
    const items = [
      reminder(),
      { category: 'NOPE', receiversId: ['camille'] },
      reminder({ receiversId: ['john'] }),
      { category: 'TRIP_REMINDER_NOTIFICATION', receiversId: ['john'] },
    ];
    const res = await api().post('/v1/mails/batch').send(items).expect(200);
    expect(res.body.results.map((r: { index: number; status: number }) => [r.index, r.status])).toEqual([
      [0, 202],
      [1, 400],
      [2, 202],
      [3, 400],
    ]);
    expect(res.body.results[1].error).toMatchObject({
      name: 'VALIDATION_ERROR',
      details: [expect.objectContaining({ field: 'category' })],
    });
    expect(res.body.results[3].error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'publicationId',
      'reservationId',
    ]);
    for (const index of [0, 2]) {
      const mail = await waitForMail(service.url, res.body.results[index].mail.id, settled);
      expect(mail.status).toBe('SENT');
    }
    await api().post('/v1/mails/batch').send([]).expect(400);
    await api()
      .post('/v1/mails/batch')
      .send(Array.from({ length: 501 }, () => reminder()))
      .expect(400);
    await api().post('/v1/mails/batch').send(reminder()).expect(400);
  });

  it('stores all 500 events of a full batch', async () => {
    const before = Number((await db.query('SELECT count(*) FROM mail')).rows[0].count);
    const items = Array.from({ length: 500 }, (_, i) => reminder({ reservationId: `BULK-${i}`, testMode: true }));
    const res = await api().post('/v1/mails/batch').send(items).expect(200);
    expect(res.body.results.every((r: { status: number }) => r.status === 202)).toBe(true);
    expect(Number((await db.query('SELECT count(*) FROM mail')).rows[0].count)).toBe(before + 500);
  });

  it('fails a delivery whose retries are spent (RETRIES_EXHAUSTED), lists its attempts, and retries it on request', async () => {
    inbox.recipientPolicy = (address) =>
      address === 'busy@example.com' ? { code: 452, message: 'Mailbox busy' } : undefined;
    const res = await api()
      .post('/v1/mails')
      .send({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['busy'] })
      .expect(202);
    const failed = await waitForMail(service.url, res.body.id, settled, 30_000);
    expect(failed.status).toBe('FAILED');
    expect(failed.deliveries[0]).toMatchObject({
      status: 'FAILED',
      attempts: 3,
      error: {
        code: 'RETRIES_EXHAUSTED',
        message: expect.stringContaining('3 attempts'),
        smtpResponse: expect.stringMatching(/^452/),
      },
    });
    expect(rels(failed)).toEqual(['retry', 'self']);

    const attempts = await api().get(`/v1/mails/${res.body.id}/deliveries/busy/attempts`).expect(200);
    expect(attempts.body).toEqual(
      [1, 2, 3].map((attempt) => ({
        attempt,
        startedAt: expect.any(String),
        finishedAt: expect.any(String),
        outcome: 'TEMPORARY_FAILURE',
        smtpResponse: expect.stringMatching(/^452/),
      })),
    );
    await api().get(`/v1/mails/${res.body.id}/deliveries/nobody/attempts`).expect(404);

    inbox.recipientPolicy = () => undefined;
    const retried = await api().post(`/v1/mails/${res.body.id}/retry`).expect(202);
    expect(retried.body.status).toBe('PENDING');
    const sent = await waitForMail(service.url, res.body.id, settled);
    expect(sent.status).toBe('SENT');
    expect(sent.deliveries[0]).toMatchObject({ attempts: 4, error: null });
    expect(inbox.messages.filter(byMailId(res.body.id))).toHaveLength(1);
    expect((await api().post(`/v1/mails/${res.body.id}/retry`).expect(409)).body.name).toBe('CONFLICT');
  });

  it('creates one mail for 20 concurrent POSTs with one Idempotency-Key', async () => {
    const body = reminder({ reservationId: 'RES-IDEMPOTENT' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api().post('/v1/mails').set('Idempotency-Key', 'booking-77-reminder').send(body),
      ),
    );
    expect(answers.map((a) => a.status).every((s) => s === 202 || s === 409)).toBe(true);
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted.length).toBeGreaterThan(0);
    expect(new Set(accepted.map((a) => a.body.id)).size).toBe(1);
    expect(accepted.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(accepted.length - 1);
    const stored = await db.query(`SELECT count(*) FROM mail WHERE reservation_id = 'RES-IDEMPOTENT'`);
    expect(Number(stored.rows[0].count)).toBe(1);
    await waitForMail(service.url, accepted[0].body.id, settled);
    await deliveriesAtRest(databaseUrl);
    expect(inbox.messages.filter(byMailId(accepted[0].body.id))).toHaveLength(1);
  });

  it('keeps an Idempotency-Key with the mail it created: a key is never stored without its mail, nor the reverse', async () => {
    const res = await api()
      .post('/v1/mails')
      .set('Idempotency-Key', 'tx-key')
      .send(reminder({ reservationId: 'RES-TX' }))
      .expect(202);
    const keys = await db.query(
      `SELECT status_code, response_body->>'id' AS id FROM idempotency_key WHERE key = 'tx-key'`,
    );
    expect(keys.rows).toEqual([{ status_code: 202, id: res.body.id }]);
    const replay = await api()
      .post('/v1/mails')
      .set('Idempotency-Key', 'tx-key')
      .send(reminder({ reservationId: 'RES-TX' }))
      .expect(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers.location).toBe(res.headers.location);
    expect(replay.body.id).toBe(res.body.id);
    expect(
      (
        await api()
          .post('/v1/mails')
          .set('Idempotency-Key', 'tx-key')
          .send(reminder({ reservationId: 'RES-OTHER' }))
          .expect(422)
      ).body.name,
    ).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('keeps totals exact for every filter as mails are created, sent, cancelled and retried', async () => {
    // Counted while nothing moves: every delivery due by now has its outcome (future ones stay SCHEDULED).
    await waitUntil(
      'no delivery PENDING or SENDING',
      async () =>
        (await db.query(`SELECT count(*)::int AS n FROM delivery WHERE status IN ('PENDING', 'SENDING')`)).rows[0].n ===
        0,
      30_000,
    );
    const statuses = ['SCHEDULED', 'PENDING', 'SENT', 'PARTIALLY_SENT', 'FAILED', 'CANCELLED'];
    const categories = ['TRIP_REMINDER_NOTIFICATION', 'CLIENT_PAYMENT_NOTIFICATION', 'PROFILE_COMPLETION_REQUEST'];
    const filters: Array<Record<string, string>> = [
      {},
      ...statuses.map((status) => ({ status })),
      ...categories.map((category) => ({ category })),
      { category: 'TRIP_REMINDER_NOTIFICATION', status: 'SENT' },
    ];
    for (const filter of filters) {
      const res = await api().get('/v1/mails').query(filter).expect(200);
      const where = Object.entries(filter)
        .map(([column, value]) => `${column} = '${value}'`)
        .join(' AND ');
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM mail ${where ? `WHERE ${where}` : ''}`);
      expect([filter, res.body.totalElements]).toEqual([filter, rows[0].n]);
    }
  });

  it('pages through every mail by following next links (a keyset cursor), in order, without a gap or a repeat', async () => {
    const { rows } = await db.query(`SELECT id FROM mail ORDER BY created_at DESC, id DESC`);
    const seen: string[] = [];
    let href: string | undefined = `${service.url}/v1/mails?sizePage=37`;
    for (let page = 1; href; page++) {
      const res: request.Response = await request(href).get('').expect(200);
      expect(res.body.currentPage).toBe(page);
      seen.push(...res.body.content.map((mail: MailBody) => mail.id));
      href = res.body.links.find((link: { rel: string }) => link.rel === 'next')?.href;
      if (href) expect(new URL(href).searchParams.get('cursor')).toEqual(expect.any(String));
    }
    expect(seen).toEqual(rows.map((row) => row.id));
    await api().get('/v1/mails').query({ cursor: 'not-a-cursor' }).expect(400);
  });
});
