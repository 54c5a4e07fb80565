import { createTransport } from 'nodemailer';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { InboundSmtpListener } from '../src/inbound/inbound-smtp.listener';
import { SubscriptionRepository } from '../src/recipients/subscription.repository';
import { waitUntil } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { AUDIENCE, bearer, ISSUER, JwksServer, SigningKey, signingKey, signToken } from './tokens';
import { WebhookReceiver } from './webhook-receiver';

const SERVICE_KEY = 'svc_booking_4f7d0c2a9b1e8d63';
const SUBSCRIPTION_CATEGORIES = [
  'PROFILE_COMPLETION_REQUEST',
  'ORGANIZATION_INFO_COMPLETION_REQUEST',
  'ESTABLISHMENT_INFO_COMPLETION_REQUEST',
  'TRIP_DRAFT_PUBLICATION_REQUEST',
  'CONVERSATION_UNREAD_MESSAGES',
];
const FORM = 'application/x-www-form-urlencoded';

interface Subscriptions {
  recipientId: string;
  categories: Array<{
    category: string;
    email: { subscribed: boolean; changedAt: string | null; source: string | null };
  }>;
  links: Array<{ rel: string; method: string; href: string }>;
}

/**
 * Consent (contract A3), the receiving side: category kinds, the preferences API and its access,
 * one-click unsubscribe (the page and the POST) and the mailto one through the real inbound SMTP
 * listener; `recipient.unsubscribed` reaching a real webhook receiver. Real Postgres, AUTH_MODE=on.
 */
describe('Consent: preferences, one-click and mailto unsubscribe (real Postgres, real SMTP, AUTH_MODE=on)', () => {
  let inbox: SmtpInbox;
  let receiver: WebhookReceiver;
  let service: TestApp;
  let key: SigningKey;
  let subscriptions: SubscriptionRepository;
  let db: DataSource;
  const jwks = new JwksServer();
  const service_ = { authorization: `Bearer ${SERVICE_KEY}` };
  const person = async (sub: string, roles: string[]) => bearer(await signToken(key, { sub, roles }));
  const api = () => request(service.url);
  const events = async (): Promise<Array<{ data: Record<string, unknown> }>> =>
    db.query(`SELECT data FROM event WHERE type = 'recipient.unsubscribed' ORDER BY id`);
  const row = async (token: string): Promise<{ email_subscribed: boolean; source: string | null }> =>
    (await db.query(`SELECT email_subscribed, source FROM subscription WHERE unsubscribe_token = $1`, [token]))[0] as {
      email_subscribed: boolean;
      source: string | null;
    };

  beforeAll(async () => {
    inbox = await startInbox();
    receiver = new WebhookReceiver();
    await receiver.start();
    key = await signingKey('k1');
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
        WEBHOOK_RETRY_SCHEDULE_SECONDS: '1',
      },
    });
    subscriptions = service.app.get(SubscriptionRepository);
    db = service.app.get(DataSource);
    await api()
      .post('/v1/webhooks')
      .set(service_)
      .send({ url: receiver.url('/consent'), events: ['recipient.unsubscribed'] })
      .expect(201);
    await api()
      .put('/v1/recipients/english-reader')
      .set(service_)
      .send({ email: 'reader@example.com', locale: 'en' })
      .expect(201);
  });

  afterAll(async () => {
    await service?.close();
    await jwks.stop();
    await receiver?.stop();
    await inbox?.stop();
  });

  it('shows the kind of every category', async () => {
    const kindOf = async (category: string) =>
      ((await api().get(`/v1/templates/${category}`).set(service_).expect(200)).body as { kind: string }).kind;
    expect(await kindOf('PROFILE_COMPLETION_REQUEST')).toBe('SUBSCRIPTION');
    expect(await kindOf('CLIENT_PAYMENT_NOTIFICATION')).toBe('TRANSACTIONAL');
    const list = (await api().get('/v1/templates').set(service_).expect(200)).body as {
      content: Array<{ category: string; kind: string }>;
    };
    expect(list.content.filter((t) => t.kind === 'SUBSCRIPTION').map((t) => t.category)).toEqual(
      SUBSCRIPTION_CATEGORIES,
    );
    expect(list.content.filter((t) => t.kind === 'TRANSACTIONAL')).toHaveLength(list.content.length - 5);
  });

  it('answers every SUBSCRIPTION category, subscribed and never changed without a row, to whom may see it', async () => {
    const view = (await api().get('/v1/recipients/customer-A/subscriptions').set(service_).expect(200))
      .body as Subscriptions;
    expect(view.recipientId).toBe('customer-A');
    expect(view.categories).toEqual(
      SUBSCRIPTION_CATEGORIES.map((category) => ({
        category,
        email: { subscribed: true, changedAt: null, source: null },
      })),
    );
    expect(view.links.map((l) => `${l.rel} ${l.method}`)).toEqual([
      'self GET',
      ...SUBSCRIPTION_CATEGORIES.map(() => 'subscription PUT'),
    ]);
    expect(view.links[1].href).toMatch(/\/v1\/recipients\/customer-A\/subscriptions\/PROFILE_COMPLETION_REQUEST$/);

    const status = async (headers: Record<string, string>) =>
      (await api().get('/v1/recipients/customer-A/subscriptions').set(headers)).status;
    expect(await status(await person('customer-A', ['customer']))).toBe(200);
    expect(await status(await person('admin-1', ['admin']))).toBe(200);
    expect(await status(await person('customer-B', ['customer']))).toBe(404);
    expect(await status(await person('agent-1', ['agent']))).toBe(404);
    expect(await status({})).toBe(401);
    // Another person cannot change it either; the person themselves can.
    const put = async (headers: Record<string, string>) =>
      (
        await api()
          .put('/v1/recipients/customer-A/subscriptions/TRIP_DRAFT_PUBLICATION_REQUEST')
          .set(headers)
          .send({ email: true })
      ).status;
    expect(await put(await person('customer-B', ['customer']))).toBe(404);
    expect(await put(await person('customer-A', ['customer']))).toBe(200);
  });

  it('refuses a TRANSACTIONAL or unknown category, and a body without a boolean, naming the field', async () => {
    for (const category of ['CLIENT_PAYMENT_NOTIFICATION', 'NO_SUCH_CATEGORY']) {
      const res = await api()
        .put(`/v1/recipients/customer-A/subscriptions/${category}`)
        .set(service_)
        .send({ email: false })
        .expect(400);
      expect(res.body).toMatchObject({ name: 'VALIDATION_ERROR', details: [{ field: 'category', location: 'path' }] });
    }
    const res = await api()
      .put('/v1/recipients/customer-A/subscriptions/PROFILE_COMPLETION_REQUEST')
      .set(service_)
      .send({ email: 'no' })
      .expect(400);
    expect(res.body).toMatchObject({ name: 'VALIDATION_ERROR', details: [{ field: 'email' }] });
    expect(await events()).toEqual([]);
  });

  it('unsubscribes through the API once (source API), delivers recipient.unsubscribed to webhooks, and resubscribes', async () => {
    const path = '/v1/recipients/customer-A/subscriptions/CONVERSATION_UNREAD_MESSAGES';
    const res = await api()
      .put(path)
      .set(await person('customer-A', ['customer']))
      .send({ email: false })
      .expect(200);
    const digest = (res.body as Subscriptions).categories.find((c) => c.category === 'CONVERSATION_UNREAD_MESSAGES')!;
    expect(digest.email).toEqual({ subscribed: false, changedAt: expect.any(String), source: 'API' });
    const [call] = await receiver.waitFor(1, (c) => c.path === '/consent');
    expect(call.json.type).toBe('recipient.unsubscribed');
    expect(call.json.data).toEqual({
      recipientId: 'customer-A',
      category: 'CONVERSATION_UNREAD_MESSAGES',
      channel: 'EMAIL',
      source: 'API',
    });
    // Idempotent: the same again changes nothing and writes no event.
    const again = await api().put(path).set(service_).send({ email: false }).expect(200);
    expect(again.body).toEqual(res.body);
    expect(await events()).toHaveLength(1);
    // Subscribing again is no unsubscribe event.
    const back = await api().put(path).set(service_).send({ email: true }).expect(200);
    expect(
      (back.body as Subscriptions).categories.find((c) => c.category === 'CONVERSATION_UNREAD_MESSAGES')!.email,
    ).toMatchObject({ subscribed: true, source: 'API' });
    expect(await events()).toHaveLength(1);
  });

  describe('one-click unsubscribe', () => {
    it('offers a page in the receiver locale that changes nothing, and posts to its own URL', async () => {
      const { unsubscribeToken: token } = await subscriptions.ensure('english-reader', 'PROFILE_COMPLETION_REQUEST');
      const en = await api().get(`/v1/unsubscribe/${token}`).expect(200);
      expect(en.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(en.headers['content-security-policy']).toContain("form-action 'self'");
      expect(en.headers['content-security-policy']).not.toContain('script-src');
      expect(en.text).toContain('<html lang="en">');
      expect(en.text).toMatch(/<h1>Unsubscribe<\/h1>/);
      expect(en.text).toContain(`<form method="post" action="${token}"`);
      expect(en.text).toMatch(/<button type="submit"[^>]*>Unsubscribe me<\/button>/);
      expect(en.text).not.toMatch(/<script/i);
      expect(await row(token)).toEqual({ email_subscribed: true, source: null });

      // A receiver the directory does not know: French.
      const fr = await subscriptions.ensure('unknown-reader', 'PROFILE_COMPLETION_REQUEST');
      const page = await api().get(`/v1/unsubscribe/${fr.unsubscribeToken}`).expect(200);
      expect(page.text).toContain('<html lang="fr">');
      expect(page.text).toContain('Me désabonner');
      expect(await events()).toHaveLength(1);
    });

    it('unsubscribes on the one-click POST (RFC 8058), once; the page then says so', async () => {
      const { unsubscribeToken: token } = await subscriptions.ensure('one-click', 'TRIP_DRAFT_PUBLICATION_REQUEST');
      const before = (await events()).length;
      const first = await api()
        .post(`/v1/unsubscribe/${token}`)
        .set('Content-Type', FORM)
        .send('List-Unsubscribe=One-Click')
        .expect(200);
      expect(first.body).toMatchObject({
        category: 'TRIP_DRAFT_PUBLICATION_REQUEST',
        subscribed: false,
        changedAt: expect.any(String),
      });
      expect(await row(token)).toEqual({ email_subscribed: false, source: 'ONE_CLICK' });
      expect((await events()).slice(before)).toEqual([
        {
          data: {
            recipientId: 'one-click',
            category: 'TRIP_DRAFT_PUBLICATION_REQUEST',
            channel: 'EMAIL',
            source: 'ONE_CLICK',
          },
        },
      ]);
      const again = await api()
        .post(`/v1/unsubscribe/${token}`)
        .set('Content-Type', FORM)
        .send('List-Unsubscribe=One-Click')
        .expect(200);
      expect(again.body).toEqual(first.body);
      // Without a body too.
      await api().post(`/v1/unsubscribe/${token}`).expect(200);
      expect((await events()).length).toBe(before + 1);
      const view = (await api().get('/v1/recipients/one-click/subscriptions').set(service_).expect(200))
        .body as Subscriptions;
      expect(view.categories.find((c) => c.category === 'TRIP_DRAFT_PUBLICATION_REQUEST')!.email).toMatchObject({
        subscribed: false,
        source: 'ONE_CLICK',
      });
      const page = await api().get(`/v1/unsubscribe/${token}`).expect(200);
      expect(page.text).not.toContain('<form');
      expect(page.text).toContain('role="status"');
    });

    it('takes the one-click POST as multipart/form-data, the form RFC 8058 asks mail clients to send', async () => {
      const { unsubscribeToken: token } = await subscriptions.ensure('multipart', 'PROFILE_COMPLETION_REQUEST');
      const res = await api().post(`/v1/unsubscribe/${token}`).field('List-Unsubscribe', 'One-Click').expect(200);
      expect(res.body).toMatchObject({ category: 'PROFILE_COMPLETION_REQUEST', subscribed: false });
      expect(await row(token)).toEqual({ email_subscribed: false, source: 'ONE_CLICK' });
      // Elsewhere multipart is refused like any body that is not JSON.
      await api().post('/v1/mails').set(service_).field('category', 'PROFILE_COMPLETION_REQUEST').expect(415);
    });

    it("answers the page's button with a confirmation page (source PAGE)", async () => {
      const { unsubscribeToken: token } = await subscriptions.ensure('english-reader', 'CONVERSATION_UNREAD_MESSAGES');
      const res = await api()
        .post(`/v1/unsubscribe/${token}`)
        .set('Content-Type', FORM)
        .set('Accept', 'text/html')
        .send('List-Unsubscribe=One-Click&source=page')
        .expect(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('<html lang="en">');
      expect(res.text).toContain('Done: you will no longer receive digests of your unread messages by email.');
      expect(await row(token)).toEqual({ email_subscribed: false, source: 'PAGE' });
    });

    it('answers 404 to a token with one character changed: a page for the GET, the error body for the POST', async () => {
      const { unsubscribeToken: token } = await subscriptions.ensure('forged', 'PROFILE_COMPLETION_REQUEST');
      const forged = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
      const page = await api().get(`/v1/unsubscribe/${forged}`).expect(404);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.text).toContain('<html lang="fr">');
      const post = await api()
        .post(`/v1/unsubscribe/${forged}`)
        .set('Content-Type', FORM)
        .send('List-Unsubscribe=One-Click')
        .expect(404);
      expect(post.body).toMatchObject({ name: 'RESOURCE_NOT_FOUND' });
      await api().post('/v1/unsubscribe/not-a-token').expect(404);
      expect(await row(token)).toEqual({ email_subscribed: true, source: null });
    });

    it('reads a form on this route only: elsewhere a form post is still 415', async () => {
      const res = await api()
        .post('/v1/mails')
        .set(service_)
        .set('Content-Type', FORM)
        .send('category=PROFILE_COMPLETION_REQUEST&receiversId=x')
        .expect(415);
      expect(res.body).toMatchObject({
        name: 'UNSUPPORTED_MEDIA_TYPE',
        details: [{ field: 'Content-Type', location: 'header' }],
      });
      const { unsubscribeToken: token } = await subscriptions.ensure('big-form', 'PROFILE_COMPLETION_REQUEST');
      await api()
        .post(`/v1/unsubscribe/${token}`)
        .set('Content-Type', FORM)
        .send(`List-Unsubscribe=One-Click&pad=${'x'.repeat(2000)}`)
        .expect(413);
      expect(await row(token)).toEqual({ email_subscribed: true, source: null });
    });
  });

  describe('mailto unsubscribe', () => {
    const deliver = async (to: string, subject = 'unsubscribe') => {
      const transport = createTransport({
        host: '127.0.0.1',
        port: service.app.get(InboundSmtpListener).port!,
        secure: false,
        ignoreTLS: true,
      });
      try {
        const id = `<${Math.random().toString(36).slice(2)}@mail.example.com>`;
        const raw = `From: reader@example.com\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: ${id}\r\n\r\nPlease stop.\r\n`;
        await transport.sendMail({ envelope: { from: 'reader@example.com', to: [to] }, raw });
        return id;
      } finally {
        transport.close();
      }
    };
    const inbound = async (messageId: string) => {
      let found: Array<{ kind: string; reason: string | null }> = [];
      await waitUntil('the inbound message', async () => {
        found = await db.query(`SELECT kind, reason FROM inbound_message WHERE message_id = $1`, [messageId]);
        return found.length > 0;
      });
      return found[0];
    };

    it('unsubscribes the receiver of the token (source MAILTO), whatever the message says', async () => {
      const { unsubscribeToken: token } = await subscriptions.ensure('mailto', 'ESTABLISHMENT_INFO_COMPLETION_REQUEST');
      const before = (await events()).length;
      const id = await deliver(`unsubscribe+${token.toUpperCase()}@inbound.localhost`);
      expect(await inbound(id)).toEqual({ kind: 'UNSUBSCRIBE', reason: null });
      expect(await row(token)).toEqual({ email_subscribed: false, source: 'MAILTO' });
      expect((await events()).slice(before).map((e) => e.data)).toEqual([
        {
          recipientId: 'mailto',
          category: 'ESTABLISHMENT_INFO_COMPLETION_REQUEST',
          channel: 'EMAIL',
          source: 'MAILTO',
        },
      ]);
      const again = await deliver(`unsubscribe+${token}@inbound.localhost`, 'again');
      expect((await inbound(again)).kind).toBe('UNSUBSCRIBE');
      expect((await events()).length).toBe(before + 1);
    });

    it('records a token that names nothing REJECTED, and refuses other forms at RCPT TO', async () => {
      const id = await deliver(`unsubscribe+${'0'.repeat(40)}@inbound.localhost`);
      expect(await inbound(id)).toMatchObject({ kind: 'REJECTED' });
      await expect(deliver('unsubscribe+short@inbound.localhost')).rejects.toThrow(/550|No such recipient/);
    });
  });
});
