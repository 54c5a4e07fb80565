import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { MAIL_DELIVERIES } from '../src/mails/mail-deliveries.queue';
import { Queues } from '../src/queue/queues';
import { WEBHOOK_CALLS } from '../src/webhooks/webhook-call.handler';
import { putRecipients, waitUntil } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { WebhookReceiver } from './webhook-receiver';

/** Far longer than the waits below: what arrives came through a nudge, not a poll. */
const POLL_SECONDS = '60';
const WAIT_MS = 20_000;

/**
 * The LISTEN nudge: an API-only instance queues a mail, a worker instance (another app on the same
 * database, polling only every minute) is woken at once; the webhook call its settle queues wakes
 * the webhook runner through the trigger on webhook_delivery.
 */
describe('Queue nudges across instances (real Postgres, real SMTP, real HTTP receiver)', () => {
  let inbox: SmtpInbox;
  let receiver: WebhookReceiver;
  let api: TestApp;
  let worker: TestApp;

  beforeAll(async () => {
    inbox = await startInbox();
    receiver = new WebhookReceiver();
    await receiver.start();
    const databaseUrl = await createTestDatabase();
    api = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { RUN_MODE: 'api' } });
    worker = await startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: { RUN_MODE: 'worker', DELIVERY_POLLING_INTERVAL_SECONDS: POLL_SECONDS },
    });
    await putRecipients(api.url, [{ id: 'nudged-user', email: 'nudged.user@example.com' }]);
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await receiver?.stop();
    await inbox?.stop();
  });

  it('an API-only instance wakes the workers of another instance at once', async () => {
    expect(api.app.get(Queues).runner(MAIL_DELIVERIES)?.started).toBe(false);
    await request(api.url)
      .post('/v1/webhooks')
      .send({ url: receiver.url('/nudged'), events: ['mail.sent'] })
      .expect(201);
    // Both runners of the worker have claimed once, found nothing and wait for their next poll.
    const queues = worker.app.get(Queues);
    await waitUntil(
      'both runners of the worker waiting for work',
      () => Boolean(queues.runner(MAIL_DELIVERIES)?.waiting && queues.runner(WEBHOOK_CALLS)?.waiting),
      WAIT_MS,
      20,
    );

    const res = await request(api.url)
      .post('/v1/mails')
      .send({ receiversId: ['nudged-user'], category: 'PROFILE_COMPLETION_REQUEST' })
      .expect(202);
    const id = (res.body as { id: string }).id;
    await inbox.waitFor((mail) => mail.parsed.headers.get('x-mail-id') === id, 1, WAIT_MS);
    const [call] = await receiver.waitFor(1, (c) => c.path === '/nudged', WAIT_MS);
    expect(call.json).toMatchObject({ type: 'mail.sent', data: { id } });
  });
});
