import type { AddressObject } from 'mailparser';
import { Client } from 'pg';
import request from 'supertest';
import { loadConfig } from '../src/config/app.config';
import { InboundAddresses } from '../src/delivery/inbound-address';
import { ReceivedMail, SmtpInbox } from '../src/delivery/smtp-inbox';
import { waitUntil } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { AUDIENCE, bearer, ISSUER, JwksServer, signingKey, signToken } from './tokens';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUPPORT = 'support@voyages.test';

const header = (mail: ReceivedMail, name: string): string | undefined => {
  const value = mail.parsed.headers.get(name);
  return value === undefined ? undefined : String(value);
};
const aboutContact = (id: string) => (mail: ReceivedMail) => header(mail, 'x-contact-id') === id;
const addresses = (field: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(field) ? field : field ? [field] : []).flatMap((group) => group.value.map((a) => a.address ?? ''));
/**
 * Each contact mail's Reply-To is the `reply+` address of its own copy (contract A2, inbound mail
 * on as it always is locally): an answer is posted in the thread and goes to the other party. The
 * copy is named by its Message-ID, `<delivery id@domain>`.
 */
const inbound = loadConfig({ DATABASE_URL: 'postgres://localhost/x', SMTP_URL: 'smtp://localhost' }).inbound;
const replyAddressOf = (mail: ReceivedMail): string =>
  new InboundAddresses(inbound.domain, inbound.secret).address('reply', /^<([^@]+)@/.exec(mail.parsed.messageId!)![1]);

describe('Contact us (real Postgres, real SMTP)', () => {
  let databaseUrl: string;
  let inbox: SmtpInbox;
  let service: TestApp;
  let db: Client;
  const api = () => request(service.url);

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    inbox = await startInbox();
    // The support inbox configured with a display name, as operators write it.
    service = await startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: { CONTACT_INBOX_EMAIL: `Support Voyages <${SUPPORT}>` },
    });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await service?.close();
    await inbox?.stop();
  });

  const visitor = {
    name: 'Camille Martin',
    mail: 'camille@example.com',
    object: 'Dog on the trip',
    message: 'Hello,\nCan I bring my dog?',
  };

  /**
   * The mails a contact message caused, once each one's delivery (the source of truth of what was
   * sent) is settled: exactly `expected`, all sent, and no other.
   */
  async function mailsOf(contactId: string, expected: number): Promise<ReceivedMail[]> {
    await inbox.waitFor(aboutContact(contactId), expected);
    let statuses: string[] = [];
    await waitUntil(
      `the deliveries of contact ${contactId} settled`,
      async () => {
        const rows = await db.query<{ status: string }>(
          'SELECT d.status FROM delivery d JOIN mail m ON m.id = d.mail_id WHERE m.contact_message_id = $1',
          [contactId],
        );
        statuses = rows.rows.map((r) => r.status);
        return statuses.every((status) => ['SENT', 'FAILED', 'CANCELLED'].includes(status));
      },
      15_000,
      100,
    );
    expect(statuses).toEqual(Array(expected).fill('SENT'));
    const mails = inbox.messages.filter(aboutContact(contactId));
    expect(mails).toHaveLength(expected);
    return mails;
  }

  const lower = (addresses: string[]) => addresses.map((a) => a.toLowerCase()).sort();
  const to = (mails: ReceivedMail[], address: string): ReceivedMail => {
    const found = mails.filter((mail) => lower(mail.envelopeTo).includes(address));
    expect(found).toHaveLength(1);
    return found[0];
  };

  describe('a thread, from the first message to the replies', () => {
    let threadId: string;

    it('opens a thread: 201, Location, links, and its own id as conversationId', async () => {
      const res = await api().post('/v1/contacts').set('X-Correlation-ID', 'contact-open-1').send(visitor).expect(201);
      expect(res.body).toMatchObject({ ...visitor, transmitterId: null, receiverId: null, locale: 'fr' });
      expect(res.body.id).toMatch(UUID);
      expect(res.body.conversationId).toBe(res.body.id);
      expect(new Date(res.body.sendingDate).toISOString()).toBe(res.body.sendingDate);
      const self = `${service.url}/v1/contacts/${res.body.id}`;
      expect(res.headers.location).toBe(self);
      expect(res.body.links).toEqual([
        {
          href: self,
          rel: 'self',
          title: expect.any(String),
          mediaType: 'application/json',
          method: 'GET',
          encType: 'application/json',
        },
        {
          href: `${self}/messages`,
          rel: 'thread',
          title: expect.any(String),
          mediaType: 'application/json',
          method: 'GET',
          encType: 'application/json',
        },
        {
          href: `${service.url}/v1/contacts`,
          rel: 'reply',
          title: expect.any(String),
          mediaType: 'application/json',
          method: 'POST',
          encType: 'application/json',
        },
      ]);
      threadId = res.body.id;
    });

    it('forwards the message to the support inbox with Reply-To the visitor, and acknowledges it to the visitor', async () => {
      const mails = await mailsOf(threadId, 2);

      const forward = to(mails, SUPPORT);
      expect(header(forward, 'x-mail-category')).toBe('CONTACT_FORWARD');
      expect(forward.parsed.subject).toBe('[Contact] Dog on the trip');
      expect(addresses(forward.parsed.replyTo)).toEqual([replyAddressOf(forward)]);
      expect(forward.parsed.text).toContain('Can I bring my dog?');
      expect(forward.parsed.text).toContain('Camille Martin');
      expect(header(forward, 'x-correlation-id')).toBe('contact-open-1');
      expect(forward.parsed.messageId).toMatch(/^<[0-9a-f-]{36}@voyages\.test>$/);

      const acknowledgement = to(mails, visitor.mail);
      expect(header(acknowledgement, 'x-mail-category')).toBe('CONTACT_ACKNOWLEDGEMENT');
      expect(acknowledgement.parsed.subject).toMatch(/^Nous avons bien reçu votre message/);
      expect(acknowledgement.parsed.subject).toContain('Dog on the trip');
      expect(acknowledgement.parsed.text).toContain('Bonjour Camille Martin');
      expect(acknowledgement.parsed.text).toContain('Can I bring my dog?');
      expect(addresses(acknowledgement.parsed.replyTo)).toEqual([replyAddressOf(acknowledgement)]);
      expect(acknowledgement.parsed.messageId).not.toBe(forward.parsed.messageId);
    });

    it('sends them as mails of the one pipeline: listed with their deliveries, X-Mail-Id on each, never posted by callers', async () => {
      const listed = await api().get('/v1/mails?receiverId=support&category=CONTACT_FORWARD').expect(200);
      const forward = listed.body.content.find(
        (mail: { correlationId: string }) => mail.correlationId === 'contact-open-1',
      );
      expect(forward).toMatchObject({
        category: 'CONTACT_FORWARD',
        status: 'SENT',
        receiversId: ['support'],
        deliveries: [expect.objectContaining({ status: 'SENT', email: 's***@voyages.test' })],
      });
      const received = inbox.messages
        .filter(aboutContact(threadId))
        .find((mail) => header(mail, 'x-mail-category') === 'CONTACT_FORWARD')!;
      expect(header(received, 'x-mail-id')).toBe(forward.id);
      expect(received.parsed.messageId).toBe(forward.deliveries[0].messageId);
      const acknowledgements = await api()
        .get(`/v1/mails?receiverId=${encodeURIComponent(`contact:${threadId}`)}`)
        .expect(200);
      expect(acknowledgements.body.content.map((mail: { category: string }) => mail.category)).toEqual([
        'CONTACT_ACKNOWLEDGEMENT',
      ]);

      const posted = await api()
        .post('/v1/mails')
        .send({ category: 'CONTACT_FORWARD', receiversId: ['support'] })
        .expect(400);
      expect(posted.body.details).toEqual([expect.objectContaining({ field: 'category' })]);
    });

    it('sends a reply from support to the visitor only, with Reply-To the support inbox', async () => {
      const res = await api()
        .post('/v1/contacts')
        .send({
          name: 'Support Voyages',
          mail: SUPPORT,
          object: 'Dog on the trip',
          message: 'Yes, dogs are welcome.',
          conversationId: threadId,
        })
        .expect(201);
      expect(res.body.id).not.toBe(threadId);
      expect(res.body.conversationId).toBe(threadId);

      const [reply] = await mailsOf(res.body.id, 1);
      expect(reply.envelopeTo).toEqual([visitor.mail]);
      expect(header(reply, 'x-mail-category')).toBe('CONTACT_REPLY');
      expect(reply.parsed.subject).toBe('Re: Dog on the trip');
      expect(reply.parsed.text).toContain('Yes, dogs are welcome.');
      expect(reply.parsed.text).toContain('Bonjour Camille Martin');
      expect(addresses(reply.parsed.replyTo)).toEqual([replyAddressOf(reply)]);
    });

    it('sends a reply from the visitor to support only (the same address in another case is the same person)', async () => {
      const res = await api()
        .post('/v1/contacts')
        .send({ ...visitor, mail: 'CAMILLE@example.com', message: 'Great, thank you!', conversationId: threadId })
        .expect(201);
      const [reply] = await mailsOf(res.body.id, 1);
      expect(reply.envelopeTo).toEqual([SUPPORT]);
      // Support answers by mail to the thread's own address, not to what a reply claims.
      expect(addresses(reply.parsed.replyTo)).toEqual([replyAddressOf(reply)]);
      expect(reply.parsed.text).toContain('Great, thank you!');
    });

    it('never adds an address to the thread: a reply under another address goes to the opener only, and never receives later replies', async () => {
      // With AUTH_MODE=off every caller is trusted like support's tools: a reply that is not the visitor's is support's.
      const other = {
        name: 'Léa Dubois',
        mail: 'lea@example.com',
        object: 'Dog on the trip',
        message: 'Travelling with Camille.',
      };
      const first = await api()
        .post('/v1/contacts')
        .send({ ...other, conversationId: threadId })
        .expect(201);
      const [mail] = await mailsOf(first.body.id, 1);
      expect(mail.envelopeTo).toEqual([visitor.mail]);
      expect(addresses(mail.parsed.replyTo)).toEqual([replyAddressOf(mail)]);
      expect(mail.parsed.text).toContain('Bonjour Camille Martin');

      const later = await api()
        .post('/v1/contacts')
        .send({ ...visitor, message: 'See you there.', conversationId: threadId })
        .expect(201);
      const [laterMail] = await mailsOf(later.body.id, 1);
      expect(laterMail.envelopeTo).toEqual([SUPPORT]);
      expect(inbox.messages.some((m) => lower(m.envelopeTo).includes(other.mail))).toBe(false);
    });

    it('lists the whole thread, oldest first, from any of its messages', async () => {
      const fromFirst = await api().get(`/v1/contacts/${threadId}/messages`).expect(200);
      expect(fromFirst.body).toMatchObject({ totalElements: 5, totalPages: 1, currentPage: 1 });
      const messages = fromFirst.body.content as Array<{
        id: string;
        conversationId: string;
        sendingDate: string;
        message: string;
        links: unknown[];
      }>;
      expect(messages.map((m) => m.message)).toEqual([
        visitor.message,
        'Yes, dogs are welcome.',
        'Great, thank you!',
        'Travelling with Camille.',
        'See you there.',
      ]);
      expect(messages.every((m) => m.conversationId === threadId && m.links.length === 3)).toBe(true);
      const dates = messages.map((m) => m.sendingDate);
      expect([...dates].sort()).toEqual(dates);

      const fromReply = await api().get(`/v1/contacts/${messages[2].id}/messages`).expect(200);
      expect(fromReply.body.content.map((m: { id: string }) => m.id)).toEqual(messages.map((m) => m.id));
      expect(fromReply.body.links.find((l: { rel: string }) => l.rel === 'self').href).toBe(
        `${service.url}/v1/contacts/${messages[2].id}/messages?sizePage=10&currentPage=1`,
      );
    });

    it('gets one message with its links', async () => {
      const res = await api().get(`/v1/contacts/${threadId}`).expect(200);
      expect(res.body).toMatchObject({ id: threadId, conversationId: threadId, ...visitor });
      expect(res.body.links.map((l: { rel: string }) => l.rel)).toEqual(['self', 'thread', 'reply']);
    });
  });

  describe('when the SMTP server refuses', () => {
    afterEach(() => {
      inbox.recipientPolicy = () => undefined;
    });

    /** The deliveries of the contact mails of a message, once each has its outcome. */
    async function settledMails(
      contactId: string,
    ): Promise<Array<{ to_address: string; kind: string; status: string; attempts: number; error: string | null }>> {
      let rows: Array<{ to_address: string; kind: string; status: string; attempts: number; error: string | null }> =
        [];
      await waitUntil(
        `the deliveries of contact ${contactId} settled`,
        async () => {
          rows = (
            await db.query(
              `SELECT d.email AS to_address, m.category AS kind, d.status, d.attempts, d.error_code AS error
               FROM delivery d JOIN mail m ON m.id = d.mail_id WHERE m.contact_message_id = $1 ORDER BY m.category`,
              [contactId],
            )
          ).rows;
          return rows.every((r) => ['SENT', 'FAILED'].includes(r.status));
        },
        20_000,
        200,
      );
      return rows;
    }

    it('fails a mail the server refuses for good (5xx) at once, and still sends the others', async () => {
      inbox.recipientPolicy = (address) =>
        address === 'bounce@example.com' ? { code: 550, message: 'No such user' } : undefined;
      const res = await api()
        .post('/v1/contacts')
        .send({ ...visitor, mail: 'bounce@example.com' })
        .expect(201);
      const rows = await settledMails(res.body.id);
      expect(rows).toEqual([
        {
          to_address: 'bounce@example.com',
          kind: 'CONTACT_ACKNOWLEDGEMENT',
          status: 'FAILED',
          attempts: 1,
          error: 'SMTP_REJECTED',
        },
        { to_address: SUPPORT, kind: 'CONTACT_FORWARD', status: 'SENT', attempts: 1, error: null },
      ]);
      // One pipeline: the refused address joins the suppression list like any mail's.
      expect((await api().get('/v1/suppressions/bounce@example.com').expect(200)).body).toMatchObject({
        reason: 'HARD_BOUNCE',
        lastBounce: expect.stringContaining('No such user'),
      });
      expect(inbox.messages.filter(aboutContact(res.body.id)).map((m) => m.envelopeTo)).toEqual([[SUPPORT]]);
    });

    it('retries a mail the server refuses for now (4xx) and sends it with the same Message-ID', async () => {
      let refusals = 0;
      inbox.recipientPolicy = (address) =>
        address === 'flaky@example.com' && refusals++ < 1 ? { code: 451, message: 'Try again later' } : undefined;
      const res = await api()
        .post('/v1/contacts')
        .send({ ...visitor, mail: 'flaky@example.com' })
        .expect(201);
      const rows = await settledMails(res.body.id);
      expect(rows.map(({ kind, status, attempts }) => ({ kind, status, attempts }))).toEqual([
        { kind: 'CONTACT_ACKNOWLEDGEMENT', status: 'SENT', attempts: 2 },
        { kind: 'CONTACT_FORWARD', status: 'SENT', attempts: 1 },
      ]);
      const [acknowledgement] = await inbox.waitFor(
        (m) => aboutContact(res.body.id)(m) && m.envelopeTo.includes('flaky@example.com'),
      );
      const stored = await db.query(
        'SELECT d.message_id FROM delivery d JOIN mail m ON m.id = d.mail_id WHERE m.contact_message_id = $1 AND m.category = $2',
        [res.body.id, 'CONTACT_ACKNOWLEDGEMENT'],
      );
      expect(acknowledgement.parsed.messageId).toBe(stored.rows[0].message_id);
    });
  });

  describe('untrusted text', () => {
    it('escapes a visitor’s markup and keeps a "\\r\\nBcc:" in the message out of the headers', async () => {
      const res = await api()
        .post('/v1/contacts')
        .send({
          name: 'Eve <script>alert("name")</script>',
          mail: 'eve@example.com',
          object: 'Hi <img src=x onerror=alert(1)>',
          message: 'Hello\r\nBcc: victim@evil.test\r\n<script>alert("message")</script>',
        })
        .expect(201);
      const mails = await mailsOf(res.body.id, 2);
      for (const mail of mails) {
        expect(mail.envelopeTo).not.toContain('victim@evil.test');
        expect(mail.parsed.bcc).toBeUndefined();
        expect(mail.parsed.headers.has('bcc')).toBe(false);
        expect(mail.parsed.html).not.toContain('<script>');
        expect(mail.parsed.html).not.toContain('<img src=x');
        expect(mail.parsed.html).toContain('&lt;script&gt;');
        expect(mail.parsed.text).toContain('Bcc: victim@evil.test');
      }
      expect(to(mails, SUPPORT).parsed.subject).toBe('[Contact] Hi <img src=x onerror=alert(1)>');
    });

    it.each([
      ['name', { name: 'Eve\r\nBcc: victim@evil.test' }],
      ['object', { object: 'Hello\nBcc: victim@evil.test' }],
      ['mail', { mail: 'eve@example.com\r\nBcc: victim@evil.test' }],
      ['mail', { mail: 'eve@example.com,victim@evil.test' }],
    ])('refuses a line break or a second address in %s with a 400, and sends nothing', async (field, change) => {
      const before = inbox.messages.length;
      const res = await api()
        .post('/v1/contacts')
        .send({ ...visitor, ...change })
        .expect(400);
      expect(res.body.name).toBe('VALIDATION_ERROR');
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, location: 'body' })]));
      const count = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM contact_message WHERE mail LIKE '%victim%'",
      );
      expect(count.rows[0].n).toBe('0');
      expect(inbox.messages.length).toBe(before);
    });
  });

  describe('pages of a thread', () => {
    let ids: string[];

    beforeAll(async () => {
      const first = await api()
        .post('/v1/contacts')
        .send({ ...visitor, message: 'message 1' })
        .expect(201);
      ids = [first.body.id];
      for (let i = 2; i <= 6; i++) {
        const reply = await api()
          .post('/v1/contacts')
          .send({ ...visitor, message: `message ${i}`, conversationId: first.body.id })
          .expect(201);
        ids.push(reply.body.id);
      }
    });

    const page = (query: Record<string, string | number>) => api().get(`/v1/contacts/${ids[0]}/messages`).query(query);
    const rels = (body: { links: Array<{ rel: string }> }) => body.links.map((l) => l.rel).sort();

    it('cuts an exact multiple of sizePage into full pages, with first/last/prev/next where they exist', async () => {
      const first = await page({ sizePage: 3 }).expect(200);
      expect(first.body).toMatchObject({ totalElements: 6, totalPages: 2, currentPage: 1 });
      expect(first.body.content.map((m: { id: string }) => m.id)).toEqual(ids.slice(0, 3));
      expect(rels(first.body)).toEqual(['first', 'last', 'next', 'self']);
      const next = first.body.links.find((l: { rel: string }) => l.rel === 'next').href as string;
      expect(next).toBe(`${service.url}/v1/contacts/${ids[0]}/messages?sizePage=3&currentPage=2`);

      const second = await request(next).get('').expect(200);
      expect(second.body).toMatchObject({ totalElements: 6, totalPages: 2, currentPage: 2 });
      expect(second.body.content.map((m: { id: string }) => m.id)).toEqual(ids.slice(3, 6));
      expect(rels(second.body)).toEqual(['first', 'last', 'prev', 'self']);
    });

    it('gives a last page with the rest', async () => {
      const res = await page({ sizePage: 4, currentPage: 2 }).expect(200);
      expect(res.body).toMatchObject({ totalElements: 6, totalPages: 2, currentPage: 2 });
      expect(res.body.content.map((m: { id: string }) => m.id)).toEqual(ids.slice(4));
    });

    it('answers a page past the end with 200 and no content', async () => {
      const res = await page({ sizePage: 3, currentPage: 3 }).expect(200);
      expect(res.body).toMatchObject({ totalElements: 6, totalPages: 2, currentPage: 3, content: [] });
      expect(res.body.links.find((l: { rel: string }) => l.rel === 'prev').href).toContain('currentPage=2');
      expect(rels(res.body)).not.toContain('next');
    });

    it('uses pages of 10 by default', async () => {
      const res = await page({}).expect(200);
      expect(res.body).toMatchObject({ totalElements: 6, totalPages: 1, currentPage: 1 });
      expect(res.body.content).toHaveLength(6);
    });

    it.each([
      ['sizePage', { sizePage: 2 }],
      ['sizePage', { sizePage: 101 }],
      ['sizePage', { sizePage: 'many' }],
      ['currentPage', { currentPage: 0 }],
      ['currentPage', { currentPage: -1 }],
    ])('refuses %s out of bounds (%j) with a VALIDATION_ERROR in the query', async (field, query) => {
      const res = await page(query).expect(400);
      expect(res.body.name).toBe('VALIDATION_ERROR');
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, location: 'query' })]));
    });
  });

  describe('unknown ids', () => {
    it.each([
      ['an unknown id', '/v1/contacts/6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87'],
      ['an id that is not a UUID', '/v1/contacts/not-a-uuid'],
      ['the thread of an unknown id', '/v1/contacts/6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87/messages'],
      ['the thread of an id that is not a UUID', '/v1/contacts/42/messages'],
    ])('answers 404 RESOURCE_NOT_FOUND for %s', async (_case, path) => {
      const res = await api().get(path).expect(404);
      expect(res.body).toMatchObject({
        name: 'RESOURCE_NOT_FOUND',
        debug_id: res.headers['x-correlation-id'],
        links: [],
      });
    });

    it.each([
      ['an unknown thread', '6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87'],
      ['a conversationId that is not a UUID', 'thread-1'],
    ])('answers 404 to a reply in %s, and stores nothing', async (_case, conversationId) => {
      const res = await api()
        .post('/v1/contacts')
        .send({ ...visitor, message: `orphan ${conversationId}`, conversationId })
        .expect(404);
      expect(res.body.name).toBe('RESOURCE_NOT_FOUND');
      const count = await db.query<{ n: string }>('SELECT count(*) AS n FROM contact_message WHERE message = $1', [
        `orphan ${conversationId}`,
      ]);
      expect(count.rows[0].n).toBe('0');
    });

    it('answers 404 to a reply naming a reply rather than the first message of its thread', async () => {
      const first = await api().post('/v1/contacts').send(visitor).expect(201);
      const reply = await api()
        .post('/v1/contacts')
        .send({ ...visitor, conversationId: first.body.id })
        .expect(201);
      await api()
        .post('/v1/contacts')
        .send({ ...visitor, conversationId: reply.body.id })
        .expect(404);
    });
  });

  describe('validation', () => {
    it.each([
      ['a missing name', { name: undefined }, 'name'],
      ['an empty name', { name: '' }, 'name'],
      ['a blank name', { name: '   ' }, 'name'],
      ['a name over 200 characters', { name: 'n'.repeat(201) }, 'name'],
      ['a missing mail', { mail: undefined }, 'mail'],
      ['a mail that is not an address', { mail: 'camille' }, 'mail'],
      ['a missing object', { object: undefined }, 'object'],
      ['an object over 200 characters', { object: 'o'.repeat(201) }, 'object'],
      ['a missing message', { message: undefined }, 'message'],
      ['a message over 10,000 characters', { message: 'm'.repeat(10_001) }, 'message'],
      ['a conversationId that is not a string', { conversationId: 42 }, 'conversationId'],
      ['an unknown locale', { locale: 'de' }, 'locale'],
      ['an empty transmitterId', { transmitterId: '' }, 'transmitterId'],
      ['the seed’s stray "required" property', { required: null }, 'required'],
      ['an unknown field', { priority: 'high' }, 'priority'],
    ])('refuses %s with a VALIDATION_ERROR naming the field', async (_case, change, field) => {
      const res = await api()
        .post('/v1/contacts')
        .set('X-Correlation-ID', 'contact-bad-1')
        .send({ ...visitor, ...change })
        .expect(400);
      expect(res.body).toMatchObject({
        name: 'VALIDATION_ERROR',
        debug_id: 'contact-bad-1',
        message: expect.any(String),
        links: [],
      });
      expect(res.body.information_link).toBe(`${service.url}/docs/errors#VALIDATION_ERROR`);
      expect(res.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field, location: 'body', issue: expect.any(String) })]),
      );
    });

    it('accepts a message of exactly 10,000 characters and names of exactly 200', async () => {
      await api()
        .post('/v1/contacts')
        .send({ ...visitor, name: 'n'.repeat(200), object: 'o'.repeat(200), message: 'm'.repeat(10_000) })
        .expect(201);
    });

    it('ignores the read-only fields the seed shows in the request', async () => {
      const res = await api()
        .post('/v1/contacts')
        .send({ ...visitor, id: 'mine', sendingDate: '2019-08-24T14:15:22Z', links: [{ rel: 'self' }] })
        .expect(201);
      expect(res.body.id).toMatch(UUID);
      expect(res.body.sendingDate).not.toBe('2019-08-24T14:15:22.000Z');
    });

    it('keeps transmitterId and receiverId, and writes to the visitor in the locale they chose', async () => {
      const res = await api()
        .post('/v1/contacts')
        .send({
          ...visitor,
          mail: 'john@example.com',
          name: 'John Smith',
          transmitterId: 'user-42',
          receiverId: 'support-team',
          locale: 'en',
        })
        .expect(201);
      expect(res.body).toMatchObject({ transmitterId: 'user-42', receiverId: 'support-team', locale: 'en' });
      const mails = await mailsOf(res.body.id, 2);
      const acknowledgement = to(mails, 'john@example.com');
      expect(acknowledgement.parsed.subject).toBe('We’ve received your message: Dog on the trip');
      expect(acknowledgement.parsed.text).toContain('Hello John Smith');
      // Support reads the default language.
      expect(to(mails, SUPPORT).parsed.subject).toBe('[Contact] Dog on the trip');
    });

    it('replays a POST with the same Idempotency-Key and sends its mails once', async () => {
      const body = { ...visitor, message: 'idempotent hello' };
      const first = await api().post('/v1/contacts').set('Idempotency-Key', 'contact-key-1').send(body).expect(201);
      const second = await api().post('/v1/contacts').set('Idempotency-Key', 'contact-key-1').send(body).expect(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      await mailsOf(first.body.id, 2);
      const count = await db.query<{ n: string }>('SELECT count(*) AS n FROM contact_message WHERE message = $1', [
        'idempotent hello',
      ]);
      expect(count.rows[0].n).toBe('1');
    });
  });
});

/**
 * Who may reply in a contact thread, with access control on: the thread's own transmitter, services
 * and admins (support's tools). Anyone else meets the thread as if it did not exist, and an address
 * never joins a thread by posting into it: replies go to the thread's two fixed parties only.
 */
describe('Replies in a contact thread (AUTH_MODE=on, real tokens and JWKS)', () => {
  const SERVICE_KEY = 'svc_support_tools_0a1b2c3d4e5f';
  const jwks = new JwksServer();
  let inbox: SmtpInbox;
  let service: TestApp;
  let db: Client;
  let as: Record<'none' | 'service' | 'admin' | 'customer A' | 'customer B' | 'agent', Record<string, string>>;
  const api = () => request(service.url);
  const opener = {
    name: 'Alice Durand',
    mail: 'alice@example.com',
    object: 'My booking',
    message: 'Can I change the dates?',
  };

  beforeAll(async () => {
    inbox = await startInbox();
    const key = await signingKey('k1');
    jwks.keys = [key.jwk];
    const databaseUrl = await createTestDatabase();
    service = await startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: {
        CONTACT_INBOX_EMAIL: SUPPORT,
        AUTH_MODE: 'on',
        API_KEYS: `support-tools:${SERVICE_KEY}`,
        JWT_JWKS_URL: await jwks.start(),
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      },
    });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const person = async (sub: string, roles: string[]) => bearer(await signToken(key, { sub, roles }));
    as = {
      none: {},
      service: bearer(SERVICE_KEY),
      admin: await person('admin-1', ['admin']),
      'customer A': await person('customer-A', ['customer']),
      'customer B': await person('customer-B', ['customer']),
      agent: await person('agent-1', ['agent']),
    };
  });

  afterAll(async () => {
    await db?.end();
    await service?.close();
    await jwks.stop();
    await inbox?.stop();
  });

  /** The mails caused by message `id`: exactly `expected` of them. */
  async function mailsOf(id: string, expected: number): Promise<ReceivedMail[]> {
    await inbox.waitFor(aboutContact(id), expected);
    const rows = await db.query<{ n: string }>('SELECT count(*) AS n FROM mail WHERE contact_message_id = $1', [id]);
    expect(Number(rows.rows[0].n)).toBe(expected);
    return inbox.messages.filter(aboutContact(id));
  }
  const messagesIn = async (threadId: string): Promise<number> =>
    Number(
      (
        await db.query<{ n: string }>('SELECT count(*) AS n FROM contact_message WHERE conversation_id = $1', [
          threadId,
        ])
      ).rows[0].n,
    );
  const mailedTo = (address: string) =>
    inbox.messages.filter((m) => m.envelopeTo.map((a) => a.toLowerCase()).includes(address));

  it.each([
    ['without a token', 'none'],
    ['from another customer', 'customer B'],
    ['from an agent', 'agent'],
  ] as const)(
    'answers a reply %s in a customer’s thread with 404, as an unknown thread, and stores and mails nothing',
    async (_case, who) => {
      const thread = await api().post('/v1/contacts').set(as['customer A']).send(opener).expect(201);
      expect(thread.body.transmitterId).toBe('customer-A');
      const intruder = `intruder-${who.replace(' ', '-')}@example.com`;
      const res = await api()
        .post('/v1/contacts')
        .set(as[who])
        .send({ name: 'Mallory', mail: intruder, object: 'Re', message: 'Click here', conversationId: thread.body.id })
        .expect(404);
      const unknown = await api()
        .post('/v1/contacts')
        .set(as[who])
        .send({
          name: 'Mallory',
          mail: intruder,
          object: 'Re',
          message: 'Click here',
          conversationId: '6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87',
        })
        .expect(404);
      expect(res.body).toMatchObject({
        name: 'RESOURCE_NOT_FOUND',
        message: unknown.body.message.replace('6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87', thread.body.id),
      });
      expect(await messagesIn(thread.body.id)).toBe(1);
      await mailsOf(thread.body.id, 2);
      expect(mailedTo(intruder)).toEqual([]);
    },
  );

  it('refuses the replies of the outside report: 15 anonymous replies with a new address each mail nobody', async () => {
    const thread = await api()
      .post('/v1/contacts')
      .send({ ...opener, mail: 'victim-0@example.com' })
      .expect(201);
    const statuses: number[] = [];
    for (let i = 1; i <= 15; i++) {
      const reply = {
        name: 'Eve',
        mail: `victim-${i}@example.com`,
        object: 'Re',
        message: `https://evil.test/${i}`,
        conversationId: thread.body.id,
      };
      statuses.push((await api().post('/v1/contacts').send(reply)).status);
    }
    expect(statuses).toEqual(Array(15).fill(404));
    expect(await messagesIn(thread.body.id)).toBe(1);
    await mailsOf(thread.body.id, 2);
    for (let i = 1; i <= 15; i++) expect(mailedTo(`victim-${i}@example.com`)).toEqual([]);
  });

  it('sends the transmitter’s reply to support only, and support’s reply to the opener only, whatever address a reply gives', async () => {
    const thread = await api().post('/v1/contacts').set(as['customer A']).send(opener).expect(201);
    await mailsOf(thread.body.id, 2);

    const own = await api()
      .post('/v1/contacts')
      .set(as['customer A'])
      .send({ ...opener, mail: 'someone-else@example.com', message: 'Any news?', conversationId: thread.body.id })
      .expect(201);
    expect(own.body).toMatchObject({ conversationId: thread.body.id, transmitterId: 'customer-A' });
    const [toSupport] = await mailsOf(own.body.id, 1);
    expect(toSupport.envelopeTo).toEqual([SUPPORT]);
    expect(addresses(toSupport.parsed.replyTo)).toEqual([replyAddressOf(toSupport)]);

    const answer = await api()
      .post('/v1/contacts')
      .set(as.service)
      .send({
        name: 'Support',
        mail: 'helper@example.com',
        object: 'Re',
        message: 'Done.',
        conversationId: thread.body.id,
      })
      .expect(201);
    const [toOpener] = await mailsOf(answer.body.id, 1);
    expect(toOpener.envelopeTo).toEqual([opener.mail]);
    expect(addresses(toOpener.parsed.replyTo)).toEqual([replyAddressOf(toOpener)]);
    expect(toOpener.parsed.text).toContain('Done.');

    const byAdmin = await api()
      .post('/v1/contacts')
      .set(as.admin)
      .send({
        name: 'Admin',
        mail: 'admin@example.com',
        object: 'Re',
        message: 'Anything else?',
        conversationId: thread.body.id,
      })
      .expect(201);
    expect((await mailsOf(byAdmin.body.id, 1))[0].envelopeTo).toEqual([opener.mail]);

    const again = await api()
      .post('/v1/contacts')
      .set(as['customer A'])
      .send({ ...opener, message: 'Thanks!', conversationId: thread.body.id })
      .expect(201);
    expect((await mailsOf(again.body.id, 1))[0].envelopeTo).toEqual([SUPPORT]);
    for (const address of ['someone-else@example.com', 'helper@example.com', 'admin@example.com'])
      expect(mailedTo(address)).toEqual([]);
  });

  it('lets support answer an anonymous visitor’s thread, and nobody else reply in it', async () => {
    const thread = await api()
      .post('/v1/contacts')
      .send({ ...opener, mail: 'visitor@example.com' })
      .expect(201);
    await api()
      .post('/v1/contacts')
      .set(as['customer A'])
      .send({ ...opener, conversationId: thread.body.id })
      .expect(404);
    const answer = await api()
      .post('/v1/contacts')
      .set(as.service)
      .send({ name: 'Support', mail: SUPPORT, object: 'Re', message: 'Hello!', conversationId: thread.body.id })
      .expect(201);
    expect((await mailsOf(answer.body.id, 1))[0].envelopeTo).toEqual(['visitor@example.com']);
  });
});
