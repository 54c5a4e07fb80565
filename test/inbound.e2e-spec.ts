import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import request from 'supertest';
import { SmtpInbox, ReceivedMail } from '../src/delivery/smtp-inbox';
import { InboundSmtpListener } from '../src/inbound/inbound-smtp.listener';
import { putRecipients, settled, unreadDigest, waitForMail, waitUntil } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

const FIXTURES = join(__dirname, 'fixtures', 'inbound');
/** INBOUND_MAX_BYTES of this spec: above every fixture, small enough to go past cheaply. */
const LIMIT = 256 * 1024;

interface Inbound {
  id: string;
  kind: string;
  deliveryId: string | null;
  mailId: string | null;
  contactId: string | null;
  conversationId: string | null;
  postedMessageId: string | null;
  reason: string | null;
}

/**
 * Mail that comes back (contract A2), end to end: the service sends through a real SMTP server,
 * and what comes back reaches its real inbound SMTP listener over a socket.
 */
describe('Inbound mail (real SMTP both ways, real Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let listenerPort: number;
  const api = () => request(service.url);

  beforeAll(async () => {
    inbox = await startInbox();
    service = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      env: {
        UNREAD_MAIL_DELAY_SECONDS: '1',
        CONTACT_INBOX_EMAIL: 'support@voyages.test',
        INBOUND_MAX_BYTES: String(LIMIT),
      },
    });
    listenerPort = service.app.get(InboundSmtpListener).port!;
    await putRecipients(service.url, [
      { id: 'claire', email: 'claire.martin@example.com', firstName: 'Claire' },
      { id: 'gone', email: 'gone@example.com' },
      { id: 'agent-1', email: 'agent@example.com' },
    ]);
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  /** Sends raw bytes to the listener as an MTA would, with this envelope. */
  async function deliver(raw: string | Buffer, to: string, from = ''): Promise<string> {
    const transport = createTransport({ host: '127.0.0.1', port: listenerPort, secure: false, ignoreTLS: true });
    try {
      const info = await transport.sendMail({ envelope: { from, to: [to] }, raw });
      return info.response;
    } finally {
      transport.close();
    }
  }

  async function mailTo(receiverId: string): Promise<{ mailId: string; copy: ReceivedMail }> {
    const res = await api()
      .post('/v1/mails')
      .send({
        receiversId: [receiverId],
        category: 'TRIP_REMINDER_NOTIFICATION',
        reservationId: `R-${Date.now()}`,
        publicationId: 'P-1',
      })
      .expect(202);
    const mailId = (res.body as { id: string }).id;
    await waitForMail(service.url, mailId, settled);
    const [copy] = await inbox.waitFor((m) => m.parsed.headers.get('x-mail-id') === mailId);
    return { mailId, copy };
  }

  function fixture(name: string, values: Record<string, string>): string {
    let text = readFileSync(join(FIXTURES, name), 'utf8');
    for (const [key, value] of Object.entries(values)) text = text.split(`%${key}%`).join(value);
    return text;
  }

  /** A header of a received copy as its reader sees it (folded lines joined, an address bare). */
  function header(copy: ReceivedMail, name: 'Reply-To' | 'Message-ID' | 'X-Mail-Category'): string {
    if (name === 'Reply-To') return copy.parsed.replyTo?.value[0]?.address ?? '';
    if (name === 'Message-ID') return copy.parsed.messageId ?? '';
    return String(copy.parsed.headers.get(name.toLowerCase()) ?? '');
  }

  async function lastInbound(): Promise<Inbound> {
    const res = await api().get('/v1/inbound/messages').expect(200);
    return (res.body as { content: Inbound[] }).content[0];
  }

  it('sends every copy with its own signed bounce address as envelope sender, and a reply address only where an answer is invited', async () => {
    const { copy } = await mailTo('claire');
    expect(copy.envelopeFrom).toMatch(/^bounces\+[0-9a-f]{52}@inbound\.localhost$/);
    expect(header(copy, 'Reply-To')).toBe('');

    await api()
      .post('/v1/contacts')
      .send({ name: 'Claire', mail: 'claire.visitor@example.com', object: 'Groupe', message: 'Bonjour, un devis ?' })
      .expect(201);
    const [ack] = await inbox.waitFor((m) => m.envelopeTo.includes('claire.visitor@example.com'));
    expect(header(ack, 'Reply-To')).toMatch(/^reply\+[0-9a-f]{52}@inbound\.localhost$/);
    expect(ack.envelopeFrom).toMatch(/^bounces\+/);
  });

  it('refuses at RCPT TO every address that is not ours with a valid token (never an open relay)', async () => {
    const { copy } = await mailTo('claire');
    const forged = copy.envelopeFrom.replace(/[0-9a-f](?=@)/, (c) => (c === '0' ? '1' : '0'));
    for (const address of [
      'someone@example.com',
      'postmaster@inbound.localhost',
      forged,
      copy.envelopeFrom.replace('bounces+', 'reply+'),
    ])
      await expect(deliver('Subject: x\r\n\r\nx\r\n', address)).rejects.toMatchObject({ responseCode: 550 });
    await expect(deliver('Subject: x\r\n\r\nx\r\n', copy.envelopeFrom.toUpperCase())).resolves.toMatch(/^250/);
  });

  it('turns a DSN for a copy the relay accepted into a BOUNCED delivery, a HARD_BOUNCE suppression and an attempt, once even when it arrives twice', async () => {
    const { mailId, copy } = await mailTo('gone');
    const raw = fixture('bounce-postfix-user-unknown.eml', {
      BOUNCE_ADDRESS: copy.envelopeFrom,
      RECIPIENT: 'gone@example.com',
      MESSAGE_ID: header(copy, 'Message-ID'),
      MAIL_ID: mailId,
    });
    await deliver(raw, copy.envelopeFrom);
    const mail = (await api().get(`/v1/mails/${mailId}`).expect(200)).body as {
      status: string;
      deliveries: Array<{ status: string; error: { code: string; smtpResponse: string } }>;
    };
    expect(mail.status).toBe('FAILED');
    expect(mail.deliveries[0]).toMatchObject({
      status: 'BOUNCED',
      error: { code: 'BOUNCED', smtpResponse: expect.stringMatching(/5\.1\.1|550/) },
    });
    await api()
      .get('/v1/suppressions/gone@example.com')
      .expect(200)
      .expect((res) => expect(res.body.reason).toBe('HARD_BOUNCE'));
    const attempts = (await api().get(`/v1/mails/${mailId}/deliveries/gone/attempts`).expect(200)).body as Array<{
      outcome: string;
    }>;
    expect(attempts.map((a) => a.outcome)).toEqual(['SENT', 'BOUNCED']);
    const first = await lastInbound();
    expect(first).toMatchObject({ kind: 'BOUNCE', mailId, reason: null });

    // The same report again, through the HTTP way this time: the first record, nothing more.
    const again = await api().post('/v1/inbound/messages').set('Content-Type', 'message/rfc822').send(raw).expect(200);
    expect(again.body).toMatchObject({ id: first.id, kind: 'BOUNCE' });
    const after = (await api().get(`/v1/mails/${mailId}/deliveries/gone/attempts`).expect(200)).body as unknown[];
    expect(after).toHaveLength(2);
  });

  it("posts a visitor's answer to a contact mail in its thread, without the quoted history, and mails it to support", async () => {
    const opened = await api()
      .post('/v1/contacts')
      .send({
        name: 'Claire Martin',
        mail: 'claire.martin@example.com',
        object: 'Séjour',
        message: 'Des dates en juillet ?',
      })
      .expect(201);
    const threadId = (opened.body as { id: string }).id;
    const [ack] = await inbox.waitFor(
      (m) => m.envelopeTo.includes('claire.martin@example.com') && m.raw.includes(threadId),
    );
    const replyAddress = header(ack, 'Reply-To');
    await deliver(
      fixture('reply-gmail-fr.eml', {
        REPLY_ADDRESS: replyAddress,
        RECIPIENT: 'claire.martin@example.com',
        MESSAGE_ID: header(ack, 'Message-ID'),
      }),
      replyAddress,
      'claire.martin@example.com',
    );
    const record = await lastInbound();
    expect(record).toMatchObject({ kind: 'REPLY', contactId: threadId, reason: null });
    const thread = (await api().get(`/v1/contacts/${threadId}/messages`).expect(200)).body as {
      content: Array<{ id: string; message: string; mail: string }>;
    };
    expect(thread.content).toHaveLength(2);
    expect(thread.content[1]).toMatchObject({
      id: record.postedMessageId,
      mail: 'claire.martin@example.com',
      message:
        'Bonjour,\n\nOui, le séjour du 14 au 21 juillet nous convient très bien. Nous serons\n4 adultes et 2 enfants.\n\nMerci !',
    });
    // Like any reply of the opener: to the support inbox, with a reply address of its own.
    const [forward] = await inbox.waitFor(
      (m) => m.envelopeTo.includes('support@voyages.test') && m.raw.includes('4 adultes'),
    );
    expect(header(forward, 'Reply-To')).toMatch(/^reply\+/);
  });

  it('rejects an answer from another address than the one the reply address was sent to, and posts nothing', async () => {
    const opened = await api()
      .post('/v1/contacts')
      .send({ name: 'Paul', mail: 'paul@example.com', object: 'Question', message: 'Bonjour' })
      .expect(201);
    const threadId = (opened.body as { id: string }).id;
    const [ack] = await inbox.waitFor((m) => m.envelopeTo.includes('paul@example.com'));
    const replyAddress = header(ack, 'Reply-To');
    await deliver(
      fixture('reply-stranger-gmail-en.eml', {
        REPLY_ADDRESS: replyAddress,
        RECIPIENT: 'paul@example.com',
        STRANGER: 'mallory@example.net',
        MESSAGE_ID: header(ack, 'Message-ID'),
      }),
      replyAddress,
    );
    expect(await lastInbound()).toMatchObject({ kind: 'REJECTED', postedMessageId: null });
    const thread = (await api().get(`/v1/contacts/${threadId}/messages`).expect(200)).body as { content: unknown[] };
    expect(thread.content).toHaveLength(1);
  });

  it("posts a participant's answer to the unread digest in the conversation, to the other side", async () => {
    const { digest, conversationId } = await unreadDigest(service.url, inbox, {
      customerId: 'claire',
      agentId: 'agent-1',
      address: 'claire.martin@example.com',
    });
    const replyAddress = header(digest, 'Reply-To');
    await deliver(
      `From: Claire <claire.martin@example.com>\r\nTo: ${replyAddress}\r\nSubject: Re: messages\r\nMessage-ID: <digest-answer@example.com>\r\nIn-Reply-To: ${header(digest, 'Message-ID')}\r\n\r\nMerci, à bientôt !\r\n\r\nOn Mon, 1 Dec 2026 at 10:00, Voyages wrote:\r\n> Vous avez des messages non lus\r\n`,
      replyAddress,
    );
    const record = await lastInbound();
    expect(record).toMatchObject({ kind: 'REPLY', conversationId });
    const messages = (await api().get(`/v1/conversations/${conversationId}/messages`).expect(200)).body as {
      content: Array<{ id: string; content: string; transmitterId: string; receiverId: string }>;
    };
    expect(messages.content.find((m) => m.id === record.postedMessageId)).toMatchObject({
      content: 'Merci, à bientôt !',
      transmitterId: 'claire',
      receiverId: 'agent-1',
    });
  });

  it('refuses a message over INBOUND_MAX_BYTES: 552 from the listener, 413 from the HTTP way, nothing recorded', async () => {
    const before = (await api().get('/v1/inbound/messages').expect(200)).body as { totalElements: number };
    const { copy } = await mailTo('claire');
    const big = `From: claire.martin@example.com\r\nSubject: big\r\n\r\n${'x'
      .repeat(76)
      .concat('\r\n')
      .repeat(LIMIT / 78 + 100)}`;
    await expect(deliver(big, copy.envelopeFrom)).rejects.toMatchObject({
      responseCode: 552,
      response: expect.stringMatching(/^552 5\.3\.4 /),
    });
    await api().post('/v1/inbound/messages').set('Content-Type', 'message/rfc822').send(big).expect(413);
    const after = (await api().get('/v1/inbound/messages').expect(200)).body as { totalElements: number };
    expect(after.totalElements).toBe(before.totalElements);
  });

  it('records as REJECTED a message the HTTP way brings to an address of ours with a bad token, and posts nothing', async () => {
    const forged = `reply+${'0'.repeat(52)}@inbound.localhost`;
    const res = await api()
      .post('/v1/inbound/messages')
      .set('Content-Type', 'message/rfc822')
      .send(`From: x@example.com\r\nTo: ${forged}\r\nSubject: hi\r\nMessage-ID: <forged@example.com>\r\n\r\nhello\r\n`)
      .expect(202);
    expect(res.body).toMatchObject({ kind: 'REJECTED', postedMessageId: null });
    await waitUntil('the record to be listed', async () => (await lastInbound()).id === (res.body as Inbound).id);
  });
});
