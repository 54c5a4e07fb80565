import request from 'supertest';
import { ReceivedMail, SmtpInbox } from '../src/delivery/smtp-inbox';
import { InboundSmtpListener } from '../src/inbound/inbound-smtp.listener';
import { createTestDatabase, startApp, TestApp } from './harness';

const SUPPORT = 'support@voyages.test';

interface ThreadPage {
  content: Array<{ id: string; message: string; mail: string; object: string }>;
}

interface Inbound {
  kind: string;
  contactId: string | null;
  postedMessageId: string | null;
  reason: string | null;
}

/**
 * The whole local loop of `npm start` (contract A2, "Locally"): the service mails the embedded
 * inbox, a person answers a mail on the inbox's page, the page sends the answer as a real SMTP
 * message to the service's inbound listener, and the answer shows up in the contact thread and
 * is mailed to the other party. The page is used over HTTP as a browser uses it: the mail's page
 * read, its form's hidden token taken, the form posted with a browser's same-origin headers.
 */
describe('The local loop: a mail answered on the inbox page reaches its thread (real SMTP, HTTP and Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let listenerPort: number | undefined;
  const api = () => request(service.url);

  beforeAll(async () => {
    // As src/local-services.ts wires it: the page's reply form sends to the service's listener.
    inbox = new SmtpInbox('127.0.0.1', undefined, {
      replyRelay: () => (listenerPort ? { host: '127.0.0.1', port: listenerPort } : undefined),
    });
    await inbox.start(0, 0);
    service = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      // Any free port for the listener: specs run apps side by side.
      env: { CONTACT_INBOX_EMAIL: SUPPORT, INBOUND_SMTP_PORT: '0' },
    });
    listenerPort = service.app.get(InboundSmtpListener).port;
    expect(listenerPort).toBeGreaterThan(0);
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  const category = (mail: ReceivedMail): string => String(mail.parsed.headers.get('x-mail-category') ?? '');
  const replyTo = (mail: ReceivedMail): string => mail.parsed.replyTo?.value[0]?.address ?? '';

  /** The mail of category `kind` sent to `to` whose text includes `includes` (waits for it). */
  async function mailOf(kind: string, to: string, includes: string): Promise<ReceivedMail> {
    const [mail] = await inbox.waitFor(
      (m) => category(m) === kind && m.envelopeTo.includes(to) && (m.parsed.text ?? '').includes(includes),
    );
    return mail;
  }

  /**
   * Answers `mail` on the inbox page as a person does: opens the mail's page, reads its form, types
   * `text` and sends it. Returns the page shown after the redirect.
   */
  async function answerOnPage(mail: ReceivedMail, text: string): Promise<string> {
    const origin = inbox.webUrl;
    const page = await fetch(`${origin}/messages/${mail.id}/view`);
    expect(page.status).toBe(200);
    const html = await page.text();
    // The page shows where the answer goes, and offers the form.
    expect(html).toContain(`<dt>Reply-To</dt><dd>${replyTo(mail)}</dd>`);
    const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
    expect(form).not.toBeNull();
    const [, action, fields] = form!;
    const hidden = [...fields.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)];
    expect(hidden.map(([, name]) => name)).toEqual(['token']);
    expect(fields).toMatch(/<textarea [^>]*name="text"/);

    const body = new URLSearchParams(hidden.map(([, name, value]): [string, string] => [name, value]));
    body.append('text', text);
    // What a browser sends when the form of a page of this origin (shown in the inbox's frame) is submitted.
    const sent = await fetch(new URL(action, origin), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin,
        referer: `${origin}/messages/${mail.id}/view`,
        'sec-fetch-site': 'same-origin',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'iframe',
        'sec-fetch-user': '?1',
      },
      body: body.toString(),
    });
    if (sent.status !== 303) throw new Error(`The reply form answered ${sent.status}: ${await sent.text()}`);
    const after = await fetch(new URL(sent.headers.get('location')!, origin));
    expect(after.status).toBe(200);
    return after.text();
  }

  async function thread(contactId: string, length: number): Promise<ThreadPage['content']> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const page = (await api().get(`/v1/contacts/${contactId}/messages`).expect(200)).body as ThreadPage;
      if (page.content.length >= length || Date.now() > deadline) return page.content;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function lastInbound(): Promise<Inbound> {
    const res = await api().get('/v1/inbound/messages').expect(200);
    return (res.body as { content: Inbound[] }).content[0];
  }

  /** A text as the contact mails quote it. */
  const quoted = (text: string): string => text.replace(/^/gm, '> ');

  async function openThread(name: string, visitor: string, message: string): Promise<string> {
    const opened = await api()
      .post('/v1/contacts')
      .send({ name, mail: visitor, object: 'Séjour en juillet', message })
      .expect(201);
    return (opened.body as { id: string }).id;
  }

  it('a visitor answers the acknowledgement on the page: the new text alone is posted in the thread and mailed to support', async () => {
    const visitor = 'claire.martin@example.com';
    const contactId = await openThread(
      'Claire Martin',
      visitor,
      'Bonjour, avez-vous des dates en juillet pour 6 personnes ?',
    );
    const ack = await mailOf('CONTACT_ACKNOWLEDGEMENT', visitor, 'des dates en juillet');
    expect(replyTo(ack)).toMatch(/^reply\+[0-9a-f]{52}@inbound\.localhost$/);

    const answer = 'Bonjour,\n\nPlutôt du 14 au 21 juillet : nous serons 4 adultes et 2 enfants.\n\nMerci !';
    const shown = await answerOnPage(ack, answer);
    expect(shown).toContain(`Reply sent to ${replyTo(ack)}.`);
    expect(shown).toContain('<h2>Sent from this page</h2>');

    // The page quoted the acknowledgement below the answer ("Le …, … a écrit :" and "> " lines):
    // what is posted is the answer alone, under the mail's subject without its "Re: ".
    const messages = await thread(contactId, 2);
    expect(messages).toHaveLength(2);
    expect(messages[1]).toMatchObject({ mail: visitor, message: answer, object: ack.parsed.subject });
    expect(await lastInbound()).toMatchObject({
      kind: 'REPLY',
      contactId,
      postedMessageId: messages[1].id,
      reason: null,
    });

    // Like any answer of the visitor: mailed to support, with a reply address of its own.
    const toSupport = await mailOf('CONTACT_REPLY', SUPPORT, '4 adultes et 2 enfants');
    expect(toSupport.parsed.text).toContain(quoted(answer));
    expect(toSupport.parsed.text).not.toContain('a écrit');
    expect(replyTo(toSupport)).toMatch(/^reply\+[0-9a-f]{52}@inbound\.localhost$/);
    expect(replyTo(toSupport)).not.toBe(replyTo(ack));
  });

  it('support answers the forwarded mail on the page: the answer is posted by the support inbox and reaches the visitor, who answers back', async () => {
    const visitor = 'paul.durand@example.com';
    const contactId = await openThread('Paul Durand', visitor, 'Le départ de Lyon est-il possible ?');
    const forward = await mailOf('CONTACT_FORWARD', SUPPORT, 'Le départ de Lyon');
    expect(replyTo(forward)).toMatch(/^reply\+[0-9a-f]{52}@inbound\.localhost$/);

    const answer = 'Bonjour Paul,\n\nOui, un départ de Lyon est prévu le 14 juillet.\n\nL’équipe Voyages';
    await answerOnPage(forward, answer);
    const messages = await thread(contactId, 2);
    expect(messages).toHaveLength(2);
    expect(messages[1]).toMatchObject({ mail: SUPPORT, message: answer });
    expect(await lastInbound()).toMatchObject({ kind: 'REPLY', contactId, postedMessageId: messages[1].id });

    // Support's answer goes to the visitor, who can answer it on the page in turn.
    const toVisitor = await mailOf('CONTACT_REPLY', visitor, 'un départ de Lyon est prévu');
    expect(toVisitor.parsed.text).toContain(quoted(answer));
    expect(toVisitor.parsed.text).not.toContain('a écrit');
    expect(replyTo(toVisitor)).toMatch(/^reply\+[0-9a-f]{52}@inbound\.localhost$/);
    await answerOnPage(toVisitor, 'Parfait, merci beaucoup.');
    const after = await thread(contactId, 3);
    expect(after).toHaveLength(3);
    expect(after[2]).toMatchObject({ mail: visitor, message: 'Parfait, merci beaucoup.' });
    await mailOf('CONTACT_REPLY', SUPPORT, 'Parfait, merci beaucoup.');
  });
});
