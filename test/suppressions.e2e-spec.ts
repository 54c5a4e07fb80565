import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { putRecipients, settled, waitForMail } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

/** The suppression list against the real SMTP server of the harness, which refuses what a test tells it to. */
describe('Suppressions (real SMTP server, real Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  /** Every address the relay was asked to take (RCPT TO), in order. */
  const rcpt: string[] = [];
  const refused = new Map<string, { code: number; message: string }>();
  const api = () => request(service.url);

  beforeAll(async () => {
    inbox = await startInbox();
    inbox.recipientPolicy = (address) => {
      rcpt.push(address);
      return refused.get(address);
    };
    service = await startApp({ databaseUrl: await createTestDatabase(), smtpUrl: inbox.smtpUrl });
    await putRecipients(service.url, [
      { id: 'gone', email: 'Gone.User@example.com' },
      { id: 'full', email: 'full@example.com' },
      { id: 'fine', email: 'fine@example.com' },
      { id: 'spam-trap', email: 'content@example.com' },
    ]);
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  const mailTo = async (...receiversId: string[]) => {
    const res = await api().post('/v1/mails').send({ receiversId, category: 'PROFILE_COMPLETION_REQUEST' }).expect(202);
    return waitForMail(service.url, (res.body as { id: string }).id, settled);
  };

  it('adds an address refused at RCPT TO with 550 (HARD_BOUNCE), fails later mails to it SUPPRESSED without asking the relay, and lets mail flow again once deleted', async () => {
    refused.set('Gone.User@example.com', { code: 550, message: '5.1.1 No such user' });
    const first = await mailTo('gone', 'fine');
    expect(first.status).toBe('PARTIALLY_SENT');
    expect(first.deliveries.find((d) => d.receiverId === 'gone')).toMatchObject({
      status: 'FAILED',
      error: { code: 'SMTP_REJECTED', smtpResponse: expect.stringMatching(/^550/) },
    });

    const entry = await api().get('/v1/suppressions/gone.user@example.com').expect(200);
    expect(entry.body).toMatchObject({
      email: 'gone.user@example.com',
      reason: 'HARD_BOUNCE',
      note: null,
      lastBounce: expect.stringMatching(/^550 .*No such user/),
    });
    expect(new Date((entry.body as { createdAt: string }).createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);

    const asked = rcpt.length;
    const second = await mailTo('gone');
    expect(second.status).toBe('FAILED');
    expect(second.deliveries[0]).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: 'SUPPRESSED', smtpResponse: null },
    });
    expect(rcpt.slice(asked)).toEqual([]);

    refused.delete('Gone.User@example.com');
    await api().delete('/v1/suppressions/GONE.USER@example.com').expect(204);
    await api().get('/v1/suppressions/gone.user@example.com').expect(404);
    const third = await mailTo('gone');
    expect(third.status).toBe('SENT');
    expect(rcpt.slice(asked)).toEqual(['Gone.User@example.com']);
  });

  it('never suppresses for a 4xx, nor for a 5xx to the message itself (after DATA)', async () => {
    refused.set('full@example.com', { code: 452, message: '4.2.2 Mailbox full' });
    inbox.dataPolicy = (recipients) =>
      recipients.includes('content@example.com') ? { code: 554, message: '5.7.1 Message refused' } : undefined;
    try {
      const res = await api()
        .post('/v1/mails')
        .send({ receiversId: ['full', 'spam-trap'], category: 'PROFILE_COMPLETION_REQUEST' })
        .expect(202);
      const mailId = (res.body as { id: string }).id;
      // The 452 is retried (SMTP_TEMPORARY), the 554 fails its delivery at once.
      const mail = await waitForMail(service.url, mailId, (m) =>
        m.deliveries.every((d) => d.attempts >= 1 && d.error !== null),
      );
      expect(mail.deliveries.find((d) => d.receiverId === 'spam-trap')).toMatchObject({
        status: 'FAILED',
        error: { code: 'SMTP_REJECTED', smtpResponse: expect.stringMatching(/^554/) },
      });
      expect(mail.deliveries.find((d) => d.receiverId === 'full')).toMatchObject({ error: { code: 'SMTP_TEMPORARY' } });
      const list = await api().get('/v1/suppressions').expect(200);
      const listed = (list.body as { content: Array<{ email: string }> }).content.map((s) => s.email);
      expect(listed).not.toContain('full@example.com');
      expect(listed).not.toContain('content@example.com');
      // The same address takes mail again as soon as the relay does.
      inbox.dataPolicy = () => undefined;
      refused.delete('full@example.com');
      expect((await mailTo('spam-trap')).status).toBe('SENT');
      await waitForMail(
        service.url,
        mailId,
        (m) => m.deliveries.find((d) => d.receiverId === 'full')!.status === 'SENT',
      );
    } finally {
      inbox.dataPolicy = () => undefined;
      refused.delete('full@example.com');
    }
  });

  it('checks addresses from the HTTP user directory too', async () => {
    const directory = createServer((req, res) => {
      if (req.url === '/users/dir-user')
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ email: 'Dir.User@example.com', firstName: 'Dominique' }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', resolve));
    // A database of its own: the spec's other service has no directory and must not take this mail.
    const withDirectory = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      env: { USER_DIRECTORY_URL: `http://127.0.0.1:${(directory.address() as AddressInfo).port}/users` },
    });
    try {
      await request(withDirectory.url).put('/v1/suppressions/dir.user@example.com').send({ note: 'test' }).expect(201);
      const asked = rcpt.length;
      const res = await request(withDirectory.url)
        .post('/v1/mails')
        .send({ receiversId: ['dir-user'], category: 'PROFILE_COMPLETION_REQUEST' })
        .expect(202);
      const mail = await waitForMail(withDirectory.url, (res.body as { id: string }).id, settled);
      expect(mail.deliveries[0]).toMatchObject({
        status: 'FAILED',
        email: 'D***@example.com',
        error: { code: 'SUPPRESSED' },
      });
      expect(rcpt.slice(asked)).toEqual([]);
      await request(withDirectory.url).delete('/v1/suppressions/dir.user@example.com').expect(204);
    } finally {
      await withDirectory.close();
      await new Promise<void>((resolve) => directory.close(() => resolve()));
    }
  });

  it('adds, notes, filters, pages and removes entries by hand', async () => {
    const created = await api()
      .put('/v1/suppressions/Manual@Example.com')
      .send({ note: 'Asked to stop by phone' })
      .expect(201);
    expect(created.body).toMatchObject({
      email: 'manual@example.com',
      reason: 'MANUAL',
      note: 'Asked to stop by phone',
      lastBounce: null,
    });
    expect(created.headers.location).toMatch(/\/v1\/suppressions\/manual%40example\.com$/);
    const replaced = await api().put('/v1/suppressions/manual@example.com').send({}).expect(200);
    expect(replaced.body).toMatchObject({ reason: 'MANUAL', note: null });
    await api().put('/v1/suppressions/second@example.com').send({ note: 'x' }).expect(201);
    await api().put('/v1/suppressions/not-an-address').send({}).expect(400);
    await api().put('/v1/suppressions/third@example.com').send({ reason: 'HARD_BOUNCE' }).expect(400);

    const manual = (await api().get('/v1/suppressions?reason=MANUAL&sizePage=1').expect(200)).body as {
      totalElements: number;
      totalPages: number;
      content: Array<{ email: string }>;
      links: Array<{ rel: string }>;
    };
    expect(manual).toMatchObject({ totalElements: 2, totalPages: 2, content: [{ email: 'second@example.com' }] });
    expect(manual.links.map((l) => l.rel)).toContain('next');
    const one = (await api().get('/v1/suppressions?email=MANUAL@example.com').expect(200)).body as {
      content: Array<{ email: string }>;
    };
    expect(one.content.map((s) => s.email)).toEqual(['manual@example.com']);
    await api().get('/v1/suppressions?reason=OTHER').expect(400);

    // A manual entry stops mail like a bounce does.
    await putRecipients(service.url, [{ id: 'manual', email: 'manual@example.com' }]);
    const stopped = await mailTo('manual');
    expect(stopped.deliveries[0]).toMatchObject({ status: 'FAILED', error: { code: 'SUPPRESSED' } });
    await api().delete('/v1/suppressions/manual@example.com').expect(204);
    await api().delete('/v1/suppressions/manual@example.com').expect(404);
    expect((await mailTo('manual')).status).toBe('SENT');
  });
});
