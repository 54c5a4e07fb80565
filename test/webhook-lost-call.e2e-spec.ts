import request from 'supertest';
import { DataSource } from 'typeorm';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { LOST_CALL_EXCERPT } from '../src/webhooks/sql/claim-due-webhook-calls';
import { waitUntil } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { ReceivedCall, WebhookReceiver } from './webhook-receiver';

/** A call may last 30 s: its lease is 60 s (twice the timeout, at least 60). */
const TIMEOUT_SECONDS = 30;
const LEASE_SECONDS = 60;

interface LoggedAttempt {
  id: string;
  webhookId: string;
  attempt: number;
  status: string;
  responseStatus: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  attemptedAt: string;
}

/**
 * A worker that stops in the middle of a webhook call (its shutdown grace runs out while the
 * endpoint has not answered) leaves the call to its lease; the next worker takes it up. The
 * attempt log shows the cut attempt too, as the mail attempts show a dead worker's attempt.
 */
describe('A webhook call cut by a worker that stopped (real Postgres, real HTTP receiver)', () => {
  let inbox: SmtpInbox;
  let receiver: WebhookReceiver;
  let databaseUrl: string;
  let service: TestApp | undefined;

  beforeAll(async () => {
    inbox = await startInbox();
    receiver = new WebhookReceiver();
    await receiver.start();
    databaseUrl = await createTestDatabase();
  });

  afterAll(async () => {
    await service?.close();
    await receiver?.stop();
    await inbox?.stop();
  });

  const start = (): Promise<TestApp> =>
    startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: { SHUTDOWN_GRACE_SECONDS: '2', WEBHOOK_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS) },
    });
  const onPath = (call: ReceivedCall) => call.path === '/cut';

  it('logs the cut attempt FAILED, counted, once the next worker takes the call up after its lease', async () => {
    service = await start();
    const api = () => request(service!.url);
    const { id } = (
      await api()
        .post('/v1/webhooks')
        .send({ url: receiver.url('/cut'), events: ['contact.created'] })
        .expect(201)
    ).body as { id: string };
    // The first call is never answered: the worker stops while it waits.
    receiver.answer = (call) => (onPath(call) && receiver.calls.filter(onPath).length === 1 ? null : 200);
    await api()
      .post('/v1/contacts')
      .send({ name: 'Camille', mail: 'camille@example.com', object: 'Trip', message: 'Hello' })
      .expect(201);
    const [cut] = await receiver.waitFor(1, onPath);

    await service.close();
    service = undefined;
    const inspect = new DataSource({ type: 'postgres', url: databaseUrl });
    await inspect.initialize();
    try {
      // Left to its lease, its outcome never written.
      const [call] = (await inspect.query(`SELECT id, status, attempts FROM webhook_delivery WHERE endpoint_id = $1`, [
        id,
      ])) as Array<{ id: string; status: string; attempts: number }>;
      expect(call).toMatchObject({ status: 'SENDING', attempts: 1 });
      expect(await inspect.query(`SELECT 1 FROM webhook_attempt WHERE delivery_id = $1`, [call.id])).toEqual([]);
      // The lease runs out (moved back rather than waited for).
      await inspect.query(`UPDATE webhook_delivery SET due_at = due_at - make_interval(secs => $2) WHERE id = $1`, [
        call.id,
        LEASE_SECONDS,
      ]);
    } finally {
      await inspect.destroy();
    }

    service = await start();
    const calls = await receiver.waitFor(2, onPath);
    expect(calls[1].headers['webhook-id']).toBe(cut.headers['webhook-id']);
    const log = async (query = ''): Promise<{ totalElements: number; content: LoggedAttempt[] }> =>
      (await api().get(`/v1/webhooks/${id}/deliveries${query}`).expect(200)).body as {
        totalElements: number;
        content: LoggedAttempt[];
      };
    let logged = await log();
    await waitUntil('both attempts logged', async () => (logged = await log()).totalElements >= 2);
    const { content } = logged;
    expect(content.map((a) => [a.attempt, a.status, a.responseStatus])).toEqual([
      [2, 'SUCCEEDED', 200],
      [1, 'FAILED', null],
    ]);
    expect(content[1]).toMatchObject({ webhookId: content[0].webhookId, responseExcerpt: LOST_CALL_EXCERPT });
    expect(content[1].durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(content[1].attemptedAt)).toBeLessThanOrEqual(Date.parse(content[0].attemptedAt));
    expect((await log('?status=FAILED')).totalElements).toBe(1);
    // The endpoint did not fail: its failure streak is untouched.
    expect((await api().get(`/v1/webhooks/${id}`).expect(200)).body).toMatchObject({
      enabled: true,
      failingSince: null,
    });
  });
});
