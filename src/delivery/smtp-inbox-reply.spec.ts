import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { ReplyRelay, SmtpInbox } from './smtp-inbox';

/** A real SMTP server on loopback standing in for the service's inbound listener (contract A2). */
class FakeListener {
  readonly received: Array<{ mailFrom: string; rcptTo: string[]; parsed: ParsedMail }> = [];
  private server?: SMTPServer;
  port = 0;

  async start(): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      disableReverseLookup: true,
      onRcptTo: (address, _session, callback) => {
        if (/^reply\+[\w.-]+@inbound\.localhost$/i.test(address.address)) return callback();
        callback(Object.assign(new Error('5.1.1 No such reply address'), { responseCode: 550 }));
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            this.received.push({
              mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              rcptTo: session.envelope.rcptTo.map((r) => r.address),
              parsed,
            });
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

/** A request with exactly the headers a browser (or another site) would send. */
function http(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

describe('SmtpInbox reply form', () => {
  const listener = new FakeListener();
  let relay: ReplyRelay | undefined;
  const inbox = new SmtpInbox('127.0.0.1', undefined, { replyRelay: () => relay });
  let withReplyTo: number;
  let withoutReplyTo: number;
  let token: string;

  /** What the same page sends when its form is submitted in a browser. */
  const sameOrigin = (): Record<string, string> => ({
    host: `localhost:${inbox.webPort}`,
    origin: `http://localhost:${inbox.webPort}`,
    'sec-fetch-site': 'same-origin',
    'content-type': 'application/x-www-form-urlencoded',
  });

  beforeAll(async () => {
    await listener.start();
    relay = { host: '127.0.0.1', port: listener.port };
    await inbox.start(0, 0);
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: inbox.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    await smtp.sendMail({
      from: 'Voyages <no-reply@voyages.test>',
      to: 'Camille Martin <camille@voyages.test>',
      replyTo: 'reply+abc123.sig@inbound.localhost',
      subject: 'Votre réservation',
      messageId: '<original-2@voyages.test>',
      references: ['<first-1@voyages.test>'],
      date: new Date('2025-03-03T09:00:00Z'),
      text: 'Bonjour Camille,\n\nVotre voyage est confirmé.\n',
    });
    await smtp.sendMail({
      from: 'no-reply@voyages.test',
      to: 'dominique@voyages.test',
      subject: 'Sans réponse',
      text: 'Rien à répondre.',
    });
    const [first, second] = await inbox.waitFor(() => true, 2);
    withReplyTo = first.id;
    withoutReplyTo = second.id;
    const page = await http(inbox.webPort, `/messages/${withReplyTo}/view`);
    token = /name="token" value="([0-9a-f]+)"/.exec(page.text)![1];
  });

  afterAll(async () => {
    await inbox.stop();
    await listener.stop();
  });

  it('shows Reply-To beside From, To and Subject, and a labelled form only when there is one', async () => {
    const page = await http(inbox.webPort, `/messages/${withReplyTo}/view`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("form-action 'self'");
    expect(page.headers['content-security-policy']).not.toContain('script-src');
    expect(page.text).toContain('<dt>From</dt><dd>Voyages &#60;no-reply@voyages.test&#62;</dd>');
    expect(page.text).toContain('<dt>Reply-To</dt><dd>reply+abc123.sig@inbound.localhost</dd>');
    expect(page.text).toContain('<dt>Subject</dt><dd>Votre réservation</dd>');
    expect(page.text).toContain(`<form method="post" action="/messages/${withReplyTo}/reply">`);
    expect(page.text).toContain('<legend>Reply / Répondre</legend>');
    expect(page.text).toMatch(/<label for="reply-text">[^<]+<\/label>\s*<textarea id="reply-text" name="text"/);

    const plain = await http(inbox.webPort, `/messages/${withoutReplyTo}/view`);
    expect(plain.text).not.toContain('<dt>Reply-To</dt>');
    expect(plain.text).not.toContain('<form');

    const list = (await (await fetch(`http://127.0.0.1:${inbox.webPort}/api/messages`)).json()) as Array<{
      id: number;
      replyTo?: string;
      from?: string;
    }>;
    expect(list.find((m) => m.id === withReplyTo)).toMatchObject({
      replyTo: 'reply+abc123.sig@inbound.localhost',
      from: expect.stringContaining('no-reply@voyages.test'),
    });
  });

  it('sends the answer as a real SMTP reply to the listener, then shows that it was sent', async () => {
    const posted = await http(inbox.webPort, `/messages/${withReplyTo}/reply`, {
      method: 'POST',
      headers: sameOrigin(),
      body: form({ token, text: 'Merci, à bientôt !\r\nCamille' }),
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.location).toBe(`/messages/${withReplyTo}/view?sent=1`);

    expect(listener.received).toHaveLength(1);
    const [{ mailFrom, rcptTo, parsed }] = listener.received;
    expect(mailFrom).toBe('camille@voyages.test');
    expect(rcptTo).toEqual(['reply+abc123.sig@inbound.localhost']);
    expect(parsed.from?.value).toEqual([{ name: 'Camille Martin', address: 'camille@voyages.test' }]);
    expect(parsed.to).toMatchObject({ value: [{ address: 'reply+abc123.sig@inbound.localhost' }] });
    expect(parsed.subject).toBe('Re: Votre réservation');
    expect(parsed.inReplyTo).toBe('<original-2@voyages.test>');
    expect(parsed.references).toEqual(['<first-1@voyages.test>', '<original-2@voyages.test>']);
    expect(parsed.messageId).toMatch(/^<.+@.+>$/);
    const lines = parsed.text!.split('\n');
    expect(lines.slice(0, 2)).toEqual(['Merci, à bientôt !', 'Camille']);
    expect(parsed.text).toMatch(
      /\n\nLe .*2025.*, Voyages <no-reply@voyages\.test> a écrit :\n> Bonjour Camille,\n>\n> Votre voyage est confirmé\.\n?$/,
    );

    const page = await http(inbox.webPort, posted.headers.location as string);
    expect(page.text).toMatch(
      /<p class="notice sent" role="status">Reply sent to reply\+abc123\.sig@inbound\.localhost\.<\/p>/,
    );
    expect(page.text).toContain(parsed.messageId!.replace(/[<>]/g, (c) => `&#${c.charCodeAt(0)};`));
  });

  it('does not double "Re:" when answering an answer', async () => {
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: inbox.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    await smtp.sendMail({
      from: 'support@voyages.test',
      to: 'camille@voyages.test',
      replyTo: 'reply+def456.sig@inbound.localhost',
      subject: 'RE : Votre réservation',
      text: 'Nous revenons vers vous.',
    });
    const [mail] = await inbox.waitFor((m) => m.parsed.subject === 'RE : Votre réservation');
    const before = listener.received.length;
    const posted = await http(inbox.webPort, `/messages/${mail.id}/reply`, {
      method: 'POST',
      headers: sameOrigin(),
      body: form({ token, text: 'Parfait.' }),
    });
    expect(posted.status).toBe(303);
    const reply = listener.received[before].parsed;
    expect(reply.subject).toBe('RE : Votre réservation');
    // No Message-ID of its own was given: nodemailer made one, and it threads on that.
    expect(reply.inReplyTo).toBe(mail.parsed.messageId);
  });

  it('shows the refusal of the listener on the page, keeping what was typed', async () => {
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: inbox.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    await smtp.sendMail({
      from: 'no-reply@voyages.test',
      to: 'camille@voyages.test',
      replyTo: 'someone@elsewhere.test',
      subject: 'Ailleurs',
      text: 'Réponse ailleurs.',
    });
    const [mail] = await inbox.waitFor((m) => m.parsed.subject === 'Ailleurs');
    const before = listener.received.length;
    const posted = await http(inbox.webPort, `/messages/${mail.id}/reply`, {
      method: 'POST',
      headers: sameOrigin(),
      body: form({ token, text: 'Texte tapé <à garder>' }),
    });
    expect(posted.status).toBe(502);
    expect(posted.text).toMatch(
      /role="alert">The inbound listener at 127\.0\.0\.1:\d+ refused the reply: 550 5\.1\.1 No such reply address/,
    );
    expect(posted.text).toContain('>Texte tapé &#60;à garder&#62;</textarea>');
    expect(listener.received).toHaveLength(before);
  });

  it('shows an error on the page when the listener is not running', async () => {
    const down = new FakeListener();
    await down.start();
    const port = down.port;
    await down.stop();
    const saved = relay;
    relay = { host: '127.0.0.1', port };
    try {
      const posted = await http(inbox.webPort, `/messages/${withReplyTo}/reply`, {
        method: 'POST',
        headers: sameOrigin(),
        body: form({ token, text: 'Personne ne reçoit ceci' }),
      });
      expect(posted.status).toBe(502);
      expect(posted.headers['content-type']).toContain('text/html');
      expect(posted.text).toContain(`No inbound listener answers at 127.0.0.1:${port} (connection refused)`);
      expect(posted.text).toContain('>Personne ne reçoit ceci</textarea>');
      // The inbox itself keeps serving.
      expect((await http(inbox.webPort, '/')).status).toBe(200);
    } finally {
      relay = saved;
    }
  });

  it('says so when no listener is known', async () => {
    const saved = relay;
    relay = undefined;
    try {
      const posted = await http(inbox.webPort, `/messages/${withReplyTo}/reply`, {
        method: 'POST',
        headers: sameOrigin(),
        body: form({ token, text: 'Bonjour' }),
      });
      expect(posted.status).toBe(503);
      expect(posted.text).toContain('No inbound SMTP listener is known to this inbox');
    } finally {
      relay = saved;
    }
  });

  it('refuses cross-site posts, foreign hosts, posts without the form token and oversized bodies', async () => {
    const before = listener.received.length;
    const post = (headers: Record<string, string>, body = form({ token, text: 'Piégé' })) =>
      http(inbox.webPort, `/messages/${withReplyTo}/reply`, {
        method: 'POST',
        headers: { ...sameOrigin(), ...headers },
        body,
      });

    const crossSite = await post({ origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.text).toMatch(/^Refused: a cross-site post/);
    // An old browser without Sec-Fetch-Site: its Origin still tells.
    const { 'sec-fetch-site': _site, ...noFetchMetadata } = sameOrigin();
    expect(
      (
        await http(inbox.webPort, `/messages/${withReplyTo}/reply`, {
          method: 'POST',
          headers: { ...noFetchMetadata, origin: 'http://evil.test' },
          body: form({ token, text: 'Piégé' }),
        })
      ).status,
    ).toBe(403);
    expect((await post({ origin: 'null', 'sec-fetch-site': 'same-site' })).status).toBe(403);
    // A DNS-rebound name pointing at 127.0.0.1: same-origin for the browser, not this inbox.
    expect(
      (await post({ host: `evil.test:${inbox.webPort}`, origin: `http://evil.test:${inbox.webPort}` })).status,
    ).toBe(403);
    expect((await post({}, form({ token: 'f'.repeat(48), text: 'Piégé' }))).status).toBe(403);
    expect((await post({}, form({ text: 'Piégé' }))).status).toBe(403);
    expect((await post({ 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post({}, form({ token, text: 'x'.repeat(200 * 1024) }))).status).toBe(413);
    expect((await post({}, form({ token, text: 'x'.repeat(20_001) }))).status).toBe(413);
    expect((await http(inbox.webPort, `/messages/${withReplyTo}/reply`)).status).toBe(405);
    expect(listener.received).toHaveLength(before);
  });
});
