import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { ReceivedMail, SmtpInbox } from '../src/delivery/smtp-inbox';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { MAIL_DELIVERIES } from '../src/mails/mail-deliveries.queue';
import { Queues } from '../src/queue/queues';
import { putRecipients, settled, waitForMail } from './fixtures';

const byMailId = (id: string) => (mail: ReceivedMail) => mail.parsed.headers.get('x-mail-id') === id;

/** Who delivers (RUN_MODE) and what a delivery does when the user directory is down. */
describe('Delivery roles and the user directory (real Postgres, real SMTP)', () => {
  let inbox: SmtpInbox;
  const apps: TestApp[] = [];
  const start = async (...args: Parameters<typeof startApp>) => {
    const app = await startApp(...args);
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    inbox = await startInbox();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await inbox?.stop();
  });

  it('RUN_MODE=api stores mails but never delivers them; a RUN_MODE=worker process on the same database does', async () => {
    const databaseUrl = await createTestDatabase();
    const api = await start({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { RUN_MODE: 'api' } });
    await putRecipients(api.url, [{ id: 'camille', email: 'camille@example.com' }]);
    const res = await request(api.url)
      .post('/v1/mails')
      .send({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['camille'] })
      .expect(202);
    // Nothing in this process claims: its delivery runner is registered but was never started.
    expect(api.app.get(Queues).runner(MAIL_DELIVERIES)).toMatchObject({ started: false, inHand: 0 });
    const waiting = await request(api.url).get(`/v1/mails/${res.body.id}`).expect(200);
    expect(waiting.body).toMatchObject({
      status: 'PENDING',
      deliveries: [expect.objectContaining({ status: 'PENDING', attempts: 0 })],
    });
    expect(inbox.messages.filter(byMailId(res.body.id))).toHaveLength(0);

    const workerStartedAt = Date.now();
    const worker = await start({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { RUN_MODE: 'worker' } });
    await request(worker.url).get(`/v1/mails/${res.body.id}`).expect(404);
    await inbox.waitFor(byMailId(res.body.id));
    const mail = await waitForMail(api.url, res.body.id, settled);
    expect(mail.status).toBe('SENT');
    // Its one attempt began once the worker was there: the API process never claimed it.
    const attempts = await request(api.url).get(`/v1/mails/${res.body.id}/deliveries/camille/attempts`).expect(200);
    expect(attempts.body).toHaveLength(1);
    expect(Date.parse(attempts.body[0].startedAt)).toBeGreaterThanOrEqual(workerStartedAt);
  });

  it('retries a delivery while the user directory is unreachable, then sends it to the address it gives', async () => {
    let calls = 0;
    const directory: Server = createServer((req, res) => {
      calls += 1;
      if (calls <= 2) {
        res.writeHead(503).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ email: 'dora@example.com', firstName: 'Dora' }));
    });
    await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(directory.address() as AddressInfo).port}/users`;
      const app = await start({
        databaseUrl: await createTestDatabase(),
        smtpUrl: inbox.smtpUrl,
        env: { USER_DIRECTORY_URL: url },
      });
      const res = await request(app.url)
        .post('/v1/mails')
        .send({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['dora'] })
        .expect(202);
      const retrying = await waitForMail(app.url, res.body.id, (m) => m.deliveries[0].error !== null);
      expect(retrying.deliveries[0]).toMatchObject({
        status: 'PENDING',
        error: { code: 'SMTP_TEMPORARY', message: expect.stringMatching(/directory/i), smtpResponse: null },
      });
      const mail = await waitForMail(app.url, res.body.id, settled, 30_000);
      expect(mail.deliveries[0]).toMatchObject({ status: 'SENT', attempts: 3, email: 'd***@example.com' });
      const [received] = await inbox.waitFor(byMailId(res.body.id));
      expect(received.envelopeTo).toEqual(['dora@example.com']);
    } finally {
      directory.close();
    }
  });
});
