import request from 'supertest';
import { DataSource } from 'typeorm';
import { ReceivedMail, SmtpInbox } from '../src/delivery/smtp-inbox';
import { SubscriptionRepository } from '../src/recipients/subscription.repository';
import { deliveriesAtRest, MailBody, putRecipients, settled, waitForMail } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { AUDIENCE, bearer, ISSUER, JwksServer, signingKey, signToken } from './tokens';

/** The header block of a raw message, folded lines joined (RFC 5322 2.2.3). */
function header(mail: ReceivedMail, name: string): string | undefined {
  const head = mail.raw.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

const TOKEN =
  /^<(http:\/\/localhost:3000\/v1\/unsubscribe\/([0-9a-f]{40}))>, <mailto:unsubscribe\+([0-9a-f]{40})@inbound\.localhost>$/;

/**
 * Consent on the sending side (contract A3), against a real SMTP server and a real Postgres: the
 * raw copies, read from the server, carry the one-click headers and the footer link when (and only
 * when) their category is SUBSCRIPTION; a refusal ends deliveries UNSUBSCRIBED without contacting
 * the relay, queued ones included; forceSending passes a refusal, never a suppression.
 */
describe('Consent when sending (real SMTP server, real Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let databaseUrl: string;
  let subscriptions: SubscriptionRepository;
  let dataSource: DataSource;
  /** Every address the relay was asked to take (RCPT TO). */
  const rcpt: string[] = [];
  const api = () => request(service.url);

  beforeAll(async () => {
    // The web page too: the local experience (issue 20 item 4) is checked on it.
    inbox = new SmtpInbox();
    await inbox.start(0, 0);
    inbox.recipientPolicy = (address) => {
      rcpt.push(address);
      return undefined;
    };
    databaseUrl = await createTestDatabase();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl });
    subscriptions = service.app.get(SubscriptionRepository);
    dataSource = service.app.get(DataSource);
    await putRecipients(service.url, [
      { id: 'camille', email: 'camille@example.com', firstName: 'Camille' },
      { id: 'alex', email: 'alex@example.com', firstName: 'Alex', locale: 'en' },
      { id: 'dominique', email: 'dominique@example.com' },
      { id: 'eden', email: 'eden@example.com' },
      { id: 'bounced', email: 'bounced@example.com' },
      { id: 'local', email: 'local@example.com' },
    ]);
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  const post = async (body: Record<string, unknown>): Promise<MailBody> =>
    (await api().post('/v1/mails').send(body).expect(202)).body as MailBody;
  const send = async (body: Record<string, unknown>): Promise<MailBody> =>
    waitForMail(service.url, (await post(body)).id, settled);
  const copyOf = async (mail: MailBody): Promise<ReceivedMail> =>
    (await inbox.waitFor((m) => header(m, 'X-Mail-Id') === mail.id))[0];
  const unsubscribe = (recipientId: string, category: string) =>
    subscriptions.setEmail(dataSource.manager, recipientId, category, false, 'API');
  const sentTo = (address: string) => rcpt.filter((a) => a === address).length;

  it('gives a SUBSCRIPTION copy List-Unsubscribe (URL and mailto, one token naming the receiver and the category), List-Unsubscribe-Post and the footer link', async () => {
    const mail = await send({ receiversId: ['camille'], category: 'PROFILE_COMPLETION_REQUEST' });
    expect(mail.status).toBe('SENT');
    const copy = await copyOf(mail);

    const list = header(copy, 'List-Unsubscribe');
    expect(list).toMatch(TOKEN);
    const [, url, token, mailtoToken] = TOKEN.exec(list!)!;
    expect(mailtoToken).toBe(token);
    expect(header(copy, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    await expect(subscriptions.findByToken(token)).resolves.toMatchObject({
      recipientId: 'camille',
      category: 'PROFILE_COMPLETION_REQUEST',
      emailSubscribed: true,
    });

    // The footer links to the unsubscribe page (French: the receiver's locale), in HTML and text.
    expect(copy.parsed.html).toContain(`<a href="${url}"`);
    expect(copy.parsed.html).toMatch(/Se désabonner de ces <span[^>]*>e-mails<\/span><\/a>/);
    expect(copy.parsed.text).toContain(`Se désabonner de ces e-mails : ${url}`);

    // The same token for every later mail of that receiver and category.
    const again = await copyOf(await send({ receiversId: ['camille'], category: 'PROFILE_COMPLETION_REQUEST' }));
    expect(header(again, 'List-Unsubscribe')).toBe(list);
  });

  it('words the footer link in English for an English receiver', async () => {
    const copy = await copyOf(
      await send({ receiversId: ['alex'], category: 'TRIP_DRAFT_PUBLICATION_REQUEST', publicationId: 'PUB-1' }),
    );
    expect(header(copy, 'List-Unsubscribe')).toMatch(TOKEN);
    expect(copy.parsed.text).toMatch(
      /Unsubscribe from these e-mails : http:\/\/localhost:3000\/v1\/unsubscribe\/[0-9a-f]{40}/,
    );
  });

  it('gives a TRANSACTIONAL copy neither header nor footer link, and makes it no subscription row', async () => {
    const copy = await copyOf(
      await send({ receiversId: ['dominique'], category: 'USER_ACCOUNT_ACTIVATION_CONFIRMATION' }),
    );
    expect(header(copy, 'List-Unsubscribe')).toBeUndefined();
    expect(header(copy, 'List-Unsubscribe-Post')).toBeUndefined();
    expect(copy.parsed.html).not.toContain('/v1/unsubscribe/');
    expect(copy.parsed.text).not.toContain('/v1/unsubscribe/');
    await expect(subscriptions.findByRecipient('dominique')).resolves.toEqual([]);
  });

  it('fails a delivery UNSUBSCRIBED without contacting the relay once the receiver unsubscribed, a mail queued before the unsubscribe included; other categories still flow', async () => {
    await unsubscribe('eden', 'PROFILE_COMPLETION_REQUEST');
    const asked = sentTo('eden@example.com');
    const refused = await send({ receiversId: ['eden'], category: 'PROFILE_COMPLETION_REQUEST' });
    expect(refused.status).toBe('FAILED');
    expect(refused.deliveries[0]).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: 'UNSUBSCRIBED', message: 'The receiver unsubscribed from this category.', smtpResponse: null },
    });

    // Queued (a few seconds ahead) while subscribed, refused before its time: not sent either.
    const queued = await post({
      receiversId: ['eden'],
      category: 'ORGANIZATION_INFO_COMPLETION_REQUEST',
      organizationId: 'ORG-1',
      scheduledAt: new Date(Date.now() + 3000).toISOString(),
    });
    expect(queued.status).toBe('SCHEDULED');
    await unsubscribe('eden', 'ORGANIZATION_INFO_COMPLETION_REQUEST');
    const ended = await waitForMail(service.url, queued.id, settled);
    expect(ended.deliveries[0]).toMatchObject({ status: 'FAILED', error: { code: 'UNSUBSCRIBED' } });

    // Another SUBSCRIPTION category of the same receiver is still sent.
    const other = await send({ receiversId: ['eden'], category: 'TRIP_DRAFT_PUBLICATION_REQUEST', publicationId: 'P' });
    expect(other.status).toBe('SENT');
    await deliveriesAtRest(databaseUrl);
    expect(sentTo('eden@example.com') - asked).toBe(1);
    expect(
      inbox.messages.filter((m) => header(m, 'X-Mail-Id') === refused.id || header(m, 'X-Mail-Id') === queued.id),
    ).toEqual([]);
  });

  it('sends despite a refusal with forceSending (forcedBy null with AUTH_MODE=off), still with the unsubscribe headers', async () => {
    await unsubscribe('eden', 'TRIP_DRAFT_PUBLICATION_REQUEST');
    const forced = await send({
      receiversId: ['eden'],
      category: 'TRIP_DRAFT_PUBLICATION_REQUEST',
      publicationId: 'P',
      forceSending: true,
    });
    expect(forced).toMatchObject({ status: 'SENT', forceSending: true, forcedBy: null });
    expect(header(await copyOf(forced), 'List-Unsubscribe')).toMatch(TOKEN);

    const plain = await send({ receiversId: ['eden'], category: 'TRIP_DRAFT_PUBLICATION_REQUEST', publicationId: 'P' });
    expect(plain).toMatchObject({ status: 'FAILED', forceSending: false, forcedBy: null });
    expect(plain.deliveries[0].error?.code).toBe('UNSUBSCRIBED');
  });

  it('never sends past the suppression list, forced or not', async () => {
    await api().put('/v1/suppressions/bounced@example.com').send({ note: 'test' }).expect(201);
    await unsubscribe('bounced', 'PROFILE_COMPLETION_REQUEST');
    const forced = await send({ receiversId: ['bounced'], category: 'PROFILE_COMPLETION_REQUEST', forceSending: true });
    expect(forced.deliveries[0]).toMatchObject({ status: 'FAILED', error: { code: 'SUPPRESSED' } });
    const transactional = await send({
      receiversId: ['bounced'],
      category: 'USER_ACCOUNT_ACTIVATION_CONFIRMATION',
      forceSending: true,
    });
    expect(transactional.deliveries[0]).toMatchObject({ status: 'FAILED', error: { code: 'SUPPRESSED' } });
    await deliveriesAtRest(databaseUrl);
    expect(sentTo('bounced@example.com')).toBe(0);
  });

  it('records forceSending per item of a batch', async () => {
    const res = await api()
      .post('/v1/mails/batch')
      .send([
        { receiversId: ['eden'], category: 'PROFILE_COMPLETION_REQUEST', forceSending: true },
        { receiversId: ['eden'], category: 'PROFILE_COMPLETION_REQUEST' },
      ])
      .expect(200);
    const [first, second] = (res.body as { results: Array<{ status: number; mail: MailBody }> }).results;
    expect([first.status, second.status]).toEqual([202, 202]);
    const [a, b] = await Promise.all([first, second].map((r) => waitForMail(service.url, r.mail.id, settled)));
    expect(a).toMatchObject({ status: 'SENT', forceSending: true });
    expect(b).toMatchObject({ status: 'FAILED', forceSending: false });
    expect(b.deliveries[0].error?.code).toBe('UNSUBSCRIBED');
  });

  it('shows the unsubscribe link in the embedded inbox page of a subscription mail (in the mail HTML of its body frame)', async () => {
    const mail = await send({ receiversId: ['local'], category: 'PROFILE_COMPLETION_REQUEST' });
    const copy = await copyOf(mail);
    const [, url] = TOKEN.exec(header(copy, 'List-Unsubscribe')!)!;
    const page = await request(inbox.webUrl).get(`/messages/${copy.id}/view`).expect(200);
    expect(page.text).toContain(`<iframe class="body" src="/messages/${copy.id}"`);
    const body = await request(inbox.webUrl).get(`/messages/${copy.id}`).expect(200);
    expect(body.headers['content-type']).toMatch(/^text\/html/);
    expect(body.text).toContain(`<a href="${url}"`);
    // Followed in a tab of its own (the mail page's frame-src would refuse it inside the frame), unsandboxed.
    expect(body.text).toMatch(/^<!doctype html>.*<head[^>]*><base target="_blank">/is);
    expect(body.headers['content-security-policy']).toMatch(/^sandbox allow-popups allow-popups-to-escape-sandbox;/);
    expect(body.text).toContain('Se désabonner de ces');

    // Followed: the page (it changes nothing), its button (a POST of its form), and the next mail
    // of that category is refused. (The link's origin is PORT's; this app listens on another port.)
    const path = new URL(url).pathname;
    const landing = await api().get(path).expect(200);
    expect(landing.headers['content-type']).toMatch(/^text\/html/);
    const form = /<form[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(landing.text)![1];
    const fields = [...form.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)];
    const next = await send({ receiversId: ['local'], category: 'PROFILE_COMPLETION_REQUEST' });
    expect(next.deliveries[0].status).toBe('SENT');
    await api()
      .post(path)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(new URLSearchParams(fields.map(([, name, value]): [string, string] => [name, value])).toString())
      .expect(200);
    const refused = await send({ receiversId: ['local'], category: 'PROFILE_COMPLETION_REQUEST' });
    expect(refused.deliveries[0]).toMatchObject({ status: 'FAILED', error: { code: 'UNSUBSCRIBED' } });
    const shown = (await api().get(`/v1/mails/${refused.id}`).expect(200)).body as MailBody;
    expect(shown.deliveries[0]).toMatchObject({ status: 'FAILED', error: { code: 'UNSUBSCRIBED' } });
  });
});

/** Who may force: services (recorded under their API key's name) and admins (their sub); nobody else. */
describe('forceSending with AUTH_MODE=on', () => {
  const SERVICE_KEY = 'svc_booking_forcesendingtestkey0001';
  let inbox: SmtpInbox;
  let service: TestApp;
  const jwks = new JwksServer();
  let admin: Record<string, string>;
  let customer: Record<string, string>;
  const asService = bearer(SERVICE_KEY);
  const api = () => request(service.url);

  beforeAll(async () => {
    inbox = await startInbox();
    const key = await signingKey('k1');
    jwks.keys = [key.jwk];
    service = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      env: {
        AUTH_MODE: 'on',
        API_KEYS: `booking:${SERVICE_KEY}`,
        JWT_JWKS_URL: await jwks.start(),
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      },
    });
    admin = bearer(await signToken(key, { sub: 'admin-7', roles: ['admin'] }));
    customer = bearer(await signToken(key, { sub: 'customer-1', roles: ['customer'] }));
    await api().put('/v1/recipients/camille').set(asService).send({ email: 'camille@example.com' }).expect(201);
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
    await jwks.stop();
  });

  const event = { receiversId: ['camille'], category: 'PROFILE_COMPLETION_REQUEST', forceSending: true };

  it('records the API key name of a service that forces', async () => {
    const res = await api().post('/v1/mails').set(asService).send(event).expect(202);
    expect(res.body).toMatchObject({ forceSending: true, forcedBy: 'booking' });
    const read = await api()
      .get(`/v1/mails/${(res.body as MailBody).id}`)
      .set(asService)
      .expect(200);
    expect(read.body).toMatchObject({ forceSending: true, forcedBy: 'booking' });
  });

  it("records the admin's sub; not forcing records nobody", async () => {
    const res = await api().post('/v1/mails').set(admin).send(event).expect(202);
    expect(res.body).toMatchObject({ forceSending: true, forcedBy: 'admin-7' });
    const plain = await api()
      .post('/v1/mails')
      .set(admin)
      .send({ ...event, forceSending: false })
      .expect(202);
    expect(plain.body).toMatchObject({ forceSending: false, forcedBy: null });
  });

  it('refuses a person without the admin role (403: mails are for services and admins)', async () => {
    const res = await api().post('/v1/mails').set(customer).send(event).expect(403);
    expect(res.body).toMatchObject({ name: 'FORBIDDEN' });
    await api()
      .post('/v1/mails')
      .set(customer)
      .send({ ...event, forceSending: false })
      .expect(403);
  });
});
