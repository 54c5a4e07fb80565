import request from 'supertest';
import { SmtpInbox, ReceivedMail } from '../src/delivery/smtp-inbox';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { deliveriesAtRest, putRecipients, settled, waitForMail } from './fixtures';

/** The category table of the contract: ids each category requires and the page its button opens. */
const CATEGORIES: Array<[string, string[], string]> = [
  ['PROFILE_COMPLETION_REQUEST', [], '/profile'],
  ['ORGANIZATION_CREATION_REQUEST', ['organizationId'], '/organizations/ORG-1'],
  ['ESTABLISHMENT_CREATION_REQUEST', ['establishmentId'], '/establishments/EST-1'],
  ['ORGANIZATION_INFO_COMPLETION_REQUEST', ['organizationId'], '/organizations/ORG-1'],
  ['ESTABLISHMENT_INFO_COMPLETION_REQUEST', ['establishmentId'], '/establishments/EST-1'],
  ['USER_ACCOUNT_ACTIVATION_CONFIRMATION', [], '/login'],
  ['ORGANIZATION_ACTIVATION_CONFIRMATION', ['organizationId'], '/organizations/ORG-1'],
  ['ESTABLISHMENT_ACTIVATION_CONFIRMATION', ['establishmentId'], '/establishments/EST-1'],
  ['TRIP_DRAFT_PUBLICATION_REQUEST', ['publicationId'], '/trips/PUB-1'],
  ['TRIP_PUBLICATION_NOTIFICATION', ['publicationId'], '/trips/PUB-1'],
  ['TRIP_RESPONSIBLE_DESIGNATION_NOTIFICATION', ['publicationId'], '/trips/PUB-1'],
  ['PARTNER_TRIP_BOOKING_NOTIFICATION', ['reservationId', 'publicationId'], '/reservations/RES-1'],
  ['CLIENT_TRIP_BOOKING_NOTIFICATION', ['reservationId', 'publicationId'], '/reservations/RES-1'],
  ['PARTNER_BOOKING_CANCELLATION_NOTIFICATION', ['reservationId'], '/reservations/RES-1'],
  ['CLIENT_BOOKING_CANCELLATION_NOTIFICATION', ['reservationId'], '/reservations/RES-1'],
  ['PARTNER_PAYMENT_NOTIFICATION', ['reservationId'], '/reservations/RES-1'],
  ['CLIENT_PAYMENT_NOTIFICATION', ['reservationId'], '/reservations/RES-1'],
  ['TRIP_REMINDER_NOTIFICATION', ['reservationId', 'publicationId'], '/reservations/RES-1'],
];
const IDS: Record<string, string> = {
  organizationId: 'ORG-1',
  establishmentId: 'EST-1',
  publicationId: 'PUB-1',
  reservationId: 'RES-1',
};

function event(category: string, receiversId: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const required = CATEGORIES.find(([name]) => name === category)![1];
  return { category, receiversId, ...Object.fromEntries(required.map((field) => [field, IDS[field]])), ...extra };
}

const byMailId = (id: string) => (mail: ReceivedMail) => mail.parsed.headers.get('x-mail-id') === id;

describe('Mail delivery (real Postgres, real SMTP)', () => {
  let databaseUrl: string;
  let inbox: SmtpInbox;
  let service: TestApp;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    inbox = await startInbox();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl });
    await putRecipients(service.url, [
      { id: 'camille', email: 'camille.martin@example.com', firstName: 'Camille', locale: 'fr' },
      { id: 'john', email: 'john.smith@example.com', firstName: 'John', locale: 'en' },
      { id: 'bounce', email: 'bounce@example.com', firstName: 'Bo' },
      { id: 'flaky', email: 'flaky@example.com', firstName: 'Flo' },
    ]);
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  afterEach(() => {
    inbox.recipientPolicy = () => undefined;
  });

  it('delivers every category with its own subject, its button link and a text part', async () => {
    const posted = [];
    for (const [category] of CATEGORIES) {
      const res = await request(service.url)
        .post('/v1/mails')
        .set('X-Correlation-ID', `cat-${category}`)
        .send(event(category, ['camille']))
        .expect(202);
      posted.push({ category, id: res.body.id as string });
    }
    const subjects = new Set<string>();
    for (const { category, id } of posted) {
      const [mail] = await inbox.waitFor(byMailId(id));
      const path = CATEGORIES.find(([name]) => name === category)![2];
      const url = `https://app.voyages.test${path}`;
      expect(mail.envelopeTo).toEqual(['camille.martin@example.com']);
      expect(mail.parsed.headers.get('x-mail-category')).toBe(category);
      expect(mail.parsed.headers.get('x-correlation-id')).toBe(`cat-${category}`);
      expect(mail.parsed.html).toContain(`href="${url}"`);
      expect(mail.parsed.text).toContain(url);
      expect(mail.parsed.text).toContain('Camille');
      expect(mail.parsed.html).toContain('lang="fr"');
      expect(mail.parsed.subject).toBeTruthy();
      subjects.add(mail.parsed.subject!);

      const settledMail = await waitForMail(service.url, id, settled);
      expect(settledMail.status).toBe('SENT');
      expect(settledMail.sendingDate).toEqual(settledMail.deliveries[0].sentAt);
      expect(settledMail.sendingDate).toEqual(expect.any(String));
      expect(settledMail.deliveries[0]).toMatchObject({
        receiverId: 'camille',
        status: 'SENT',
        attempts: 1,
        email: 'c***@example.com',
        error: null,
      });
      expect(mail.parsed.messageId).toBe(settledMail.deliveries[0].messageId);
    }
    expect(subjects.size).toBe(CATEGORIES.length);
  });

  it('writes to each receiver in their own language unless the event forces one', async () => {
    const own = await request(service.url)
      .post('/v1/mails')
      .send(event('CLIENT_PAYMENT_NOTIFICATION', ['camille', 'john']))
      .expect(202);
    const mails = await inbox.waitFor(byMailId(own.body.id), 2);
    const french = mails.find((m) => m.envelopeTo[0] === 'camille.martin@example.com')!;
    const english = mails.find((m) => m.envelopeTo[0] === 'john.smith@example.com')!;
    expect(english.parsed.html).toContain('lang="en"');
    expect(english.parsed.text).toContain('John');
    expect(english.parsed.subject).not.toBe(french.parsed.subject);

    const forced = await request(service.url)
      .post('/v1/mails')
      .send(event('CLIENT_PAYMENT_NOTIFICATION', ['john'], { locale: 'fr' }))
      .expect(202);
    const [forcedMail] = await inbox.waitFor(byMailId(forced.body.id));
    expect(forcedMail.parsed.subject).toBe(french.parsed.subject);
  });

  it('merges the event variables into the mail, escaped in the HTML part', async () => {
    const res = await request(service.url)
      .post('/v1/mails')
      .send(
        event('CLIENT_TRIP_BOOKING_NOTIFICATION', ['camille'], {
          variables: { tripTitle: 'Calanques <b>by boat</b>', travellers: 3 },
        }),
      )
      .expect(202);
    const [mail] = await inbox.waitFor(byMailId(res.body.id));
    const text = `${mail.parsed.subject} ${mail.parsed.text}`;
    expect(text).toContain('Calanques <b>by boat</b>');
    expect(mail.parsed.html).not.toContain('<b>by boat</b>');
    expect(mail.parsed.html).toContain('Calanques &lt;b&gt;by boat&lt;/b&gt;');
  });

  it('writes dates and amounts for the receiver, carries Content-Language and Auto-Submitted, and a footer with the help page', async () => {
    const variables = {
      departureDate: '2027-03-12',
      amount: { amount: 1250, currency: 'EUR' },
      tripTitle: 'Aix-en-Provence',
    };
    const res = await request(service.url)
      .post('/v1/mails')
      .send(event('CLIENT_TRIP_BOOKING_NOTIFICATION', ['camille', 'john'], { variables }))
      .expect(202);
    const mails = await inbox.waitFor(byMailId(res.body.id), 2);
    const french = mails.find((m) => m.envelopeTo[0] === 'camille.martin@example.com')!;
    const english = mails.find((m) => m.envelopeTo[0] === 'john.smith@example.com')!;
    const spaces = (s: string | false | undefined) => String(s).replace(/[\u00a0\u202f]/g, ' ');
    expect(spaces(french.parsed.text)).toContain('12 mars 2027');
    expect(spaces(french.parsed.text)).toContain('1 250,00 €');
    expect(english.parsed.text).toContain('March 12, 2027');
    expect(english.parsed.text).toContain('€1,250.00');
    expect(french.parsed.text).not.toContain('2027-03-12');
    expect(french.parsed.headers.get('content-language')).toBe('fr');
    expect(english.parsed.headers.get('content-language')).toBe('en');
    expect(english.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    for (const mail of [french, english]) {
      expect(mail.parsed.text).toContain('Voyages');
      expect(mail.parsed.text).toContain('https://app.voyages.test/help');
      expect(mail.parsed.html).toContain('href="https://app.voyages.test/help"');
      // A hyphenated word is kept on one line in the HTML part.
      expect(mail.parsed.html).toContain('<span style="white-space: nowrap;">Aix-en-Provence</span>');
    }
  });

  it('fails the delivery of an unknown receiver and still sends to the others', async () => {
    const res = await request(service.url)
      .post('/v1/mails')
      .send(event('PROFILE_COMPLETION_REQUEST', ['nobody-knows-me', 'camille']))
      .expect(202);
    const mail = await waitForMail(service.url, res.body.id, settled);
    expect(mail.status).toBe('PARTIALLY_SENT');
    expect(mail.deliveries).toEqual([
      expect.objectContaining({
        receiverId: 'nobody-knows-me',
        status: 'FAILED',
        error: expect.objectContaining({ code: 'RECIPIENT_NOT_FOUND' }),
        email: null,
      }),
      expect.objectContaining({ receiverId: 'camille', status: 'SENT' }),
    ]);
    expect(inbox.messages.filter(byMailId(res.body.id))).toHaveLength(1);
  });

  it('ends FAILED at once with the server reply when the SMTP server answers 550', async () => {
    inbox.recipientPolicy = (address) =>
      address === 'bounce@example.com' ? { code: 550, message: 'Mailbox does not exist' } : undefined;
    const res = await request(service.url)
      .post('/v1/mails')
      .send(event('PROFILE_COMPLETION_REQUEST', ['bounce']))
      .expect(202);
    const mail = await waitForMail(service.url, res.body.id, settled);
    expect(mail.status).toBe('FAILED');
    expect(mail.sendingDate).toBeNull();
    expect(mail.deliveries[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(mail.deliveries[0].error).toEqual({
      code: 'SMTP_REJECTED',
      message: expect.any(String),
      smtpResponse: expect.stringMatching(/^550.*Mailbox does not exist/),
    });
  });

  it('retries a 4xx answer with backoff and sends once when the server accepts', async () => {
    let refusals = 0;
    inbox.recipientPolicy = (address) =>
      address === 'flaky@example.com' && refusals++ < 2 ? { code: 451, message: 'Try again later' } : undefined;
    const res = await request(service.url)
      .post('/v1/mails')
      .send(event('PROFILE_COMPLETION_REQUEST', ['flaky']))
      .expect(202);
    const mail = await waitForMail(service.url, res.body.id, settled, 30_000);
    expect(mail.status).toBe('SENT');
    expect(mail.deliveries[0]).toMatchObject({ status: 'SENT', attempts: 3, error: null });
    expect(inbox.messages.filter(byMailId(res.body.id))).toHaveLength(1);
  });

  it('delivers exactly once a mail accepted while the SMTP server refused connections, once it is back', async () => {
    await inbox.pause();
    const res = await request(service.url)
      .post('/v1/mails')
      .send(event('USER_ACCOUNT_ACTIVATION_CONFIRMATION', ['camille']))
      .expect(202);
    const waiting = await waitForMail(service.url, res.body.id, (m) => m.deliveries[0].error !== null);
    expect(waiting.status).toBe('PENDING');
    expect(waiting.deliveries[0].error).toMatchObject({
      code: 'SMTP_TEMPORARY',
      smtpResponse: expect.stringMatching(/ECONNREFUSED|ECONNECTION|connect/i),
    });
    expect(waiting.deliveries[0].nextAttemptAt).toEqual(expect.any(String));
    await inbox.resume();

    const mail = await waitForMail(service.url, res.body.id, settled, 40_000);
    expect(mail.status).toBe('SENT');
    await deliveriesAtRest(databaseUrl);
    const received = inbox.messages.filter(byMailId(res.body.id));
    expect(received).toHaveLength(1);
    expect(received[0].parsed.messageId).toBe(mail.deliveries[0].messageId);
  });

  it('records a test-mode mail as rendered without sending anything', async () => {
    const res = await request(service.url)
      .post('/v1/mails')
      .send(event('PROFILE_COMPLETION_REQUEST', ['camille'], { testMode: true }))
      .expect(202);
    expect(res.body.testMode).toBe(true);
    const mail = await waitForMail(service.url, res.body.id, settled);
    expect(mail.deliveries[0]).toMatchObject({ status: 'SENT', email: 'c***@example.com' });
    // A later real mail to the same receiver arrives, the test-mode one never does.
    const after = await request(service.url)
      .post('/v1/mails')
      .send(event('PROFILE_COMPLETION_REQUEST', ['camille']))
      .expect(202);
    await inbox.waitFor(byMailId(after.body.id));
    expect(inbox.messages.filter(byMailId(res.body.id))).toHaveLength(0);
  });

  it('delivers with a new instance a mail accepted by an instance that was then closed', async () => {
    const apiOnly = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { RUN_MODE: 'api' } });
    const res = await request(apiOnly.url)
      .post('/v1/mails')
      .send(event('ORGANIZATION_ACTIVATION_CONFIRMATION', ['john']))
      .expect(202);
    await apiOnly.close();

    // The shared service of this file is a worker too: stop it so only the new instance can deliver.
    await service.close();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl });
    const mail = await waitForMail(service.url, res.body.id, settled);
    expect(mail.status).toBe('SENT');
    await deliveriesAtRest(databaseUrl);
    expect(inbox.messages.filter(byMailId(res.body.id))).toHaveLength(1);
  });
});
