import { generateKeyPairSync } from 'node:crypto';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import request from 'supertest';
import { ConfigError } from '../src/config/env.reader';
import { ReceivedMail, SmtpInbox } from '../src/delivery/smtp-inbox';
import { putRecipients, settled, unreadDigest, waitForMail } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

const SELECTOR = 'e2e2026';
/** MAIL_FROM of the harness is `Voyages <no-reply@voyages.test>`: the signature is aligned with it. */
const DOMAIN = 'voyages.test';
/** Headers every mail's signature must cover (contract A3); Reply-To and the unsubscribe pair where present. */
const ALWAYS_SIGNED = ['from', 'to', 'subject', 'date', 'message-id'];
const SIGNED_WHEN_PRESENT = ['reply-to', 'list-unsubscribe', 'list-unsubscribe-post'];

interface Verdict {
  result: string;
  signingDomain: string;
  selector?: string;
  aligned?: string | false;
  algo?: string;
  format?: string;
  comment?: string;
}

/**
 * DKIM end to end (contract A3, issue 20 item 2): the service signs with a key made here, the
 * mails are read raw from the SMTP server that received them, and a real verifier (mailauth) checks
 * them against the public key, which it gets from a resolver standing in for DNS.
 */
describe('DKIM: every kind of mail leaves signed (real SMTP, real verifier)', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  let inbox: SmtpInbox;
  let service: TestApp;
  let txt: string;
  const api = () => request(service.url);

  /** DNS for the verifier: the TXT record the start banner tells operators to publish, nothing else. */
  const resolver = async (name: string, type: string): Promise<string[][]> => {
    await Promise.resolve();
    if (type === 'TXT' && name === `${SELECTOR}._domainkey.${DOMAIN}`) return [[txt]];
    throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  };

  async function verify(raw: string): Promise<Verdict[]> {
    const { results } = await dkimVerify(raw, { resolver });
    return results.map((r) => {
      const { status, signingDomain, selector, algo, format } = r as unknown as {
        status: { result: string; aligned?: string | false; comment?: string };
      } & Verdict;
      return {
        result: status.result,
        aligned: status.aligned,
        comment: status.comment,
        signingDomain,
        selector,
        algo,
        format,
      };
    });
  }

  /** The `h=` of the one DKIM-Signature of a raw message, lower case. */
  function signedHeaders(raw: string): string[] {
    const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
    const signatures = head.split('\r\n').filter((line) => /^dkim-signature:/i.test(line));
    expect(signatures).toHaveLength(1);
    const tag = /[; ]h=([^;]+)/.exec(signatures[0])?.[1] ?? '';
    return tag.replace(/\s+/g, '').toLowerCase().split(':');
  }

  /** The names of the header fields of a raw message, lower case. */
  function headerNames(raw: string): string[] {
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    return [...head.matchAll(/^([A-Za-z0-9-]+):/gm)].map(([, name]) => name.toLowerCase());
  }

  /** One letter of a header's value (or of the body) changed, everything else byte for byte. */
  function tamper(raw: string, where: 'Subject' | 'List-Unsubscribe-Post' | 'body'): string {
    const start =
      where === 'body' ? raw.indexOf('\r\n\r\n') + 4 : raw.search(new RegExp(`^${where}: `, 'm')) + where.length + 2;
    expect(start).toBeGreaterThan(where.length);
    const at = start + raw.slice(start).search(/[A-Za-z]/);
    const changed = raw[at] === 'X' ? 'Y' : 'X';
    return raw.slice(0, at) + changed + raw.slice(at + 1);
  }

  /** The checks every received mail gets: signed, passes, aligned, the headers of A3 covered, tampering detected. */
  async function expectSigned(mail: ReceivedMail): Promise<void> {
    expect(await verify(mail.raw)).toEqual([
      {
        result: 'pass',
        aligned: DOMAIN,
        comment: undefined,
        signingDomain: DOMAIN,
        selector: SELECTOR,
        algo: 'rsa-sha256',
        format: 'relaxed/relaxed',
      },
    ]);
    const signed = signedHeaders(mail.raw);
    const present = headerNames(mail.raw);
    expect(signed).toEqual(expect.arrayContaining(ALWAYS_SIGNED));
    for (const name of SIGNED_WHEN_PRESENT) if (present.includes(name)) expect(signed).toContain(name);

    const [subject] = await verify(tamper(mail.raw, 'Subject'));
    expect(subject.result).toBe('fail');
    // mailauth reports a body that no longer matches bh= as `neutral` ("body hash did not verify"),
    // not `fail`; either way it is no pass, and DMARC counts it as no DKIM.
    const [body] = await verify(tamper(mail.raw, 'body'));
    expect(body).toMatchObject({ result: 'neutral', comment: 'body hash did not verify' });
    if (present.includes('list-unsubscribe-post')) {
      const [post] = await verify(tamper(mail.raw, 'List-Unsubscribe-Post'));
      expect(post.result).toBe('fail');
    }
  }

  beforeAll(async () => {
    inbox = await startInbox();
    service = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      env: {
        UNREAD_MAIL_DELAY_SECONDS: '1',
        CONTACT_INBOX_EMAIL: 'support@voyages.test',
        DKIM_DOMAIN: DOMAIN,
        DKIM_SELECTOR: SELECTOR,
        // One line, its line breaks written as \n, as in an environment file.
        DKIM_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
      },
    });
    txt = service.config.dkim!.publicKeyDns;
    await putRecipients(service.url, [
      { id: 'claire', email: 'claire.martin@example.com', firstName: 'Claire' },
      { id: 'agent-1', email: 'agent@example.com' },
    ]);
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  async function sendMail(body: Record<string, unknown>): Promise<ReceivedMail> {
    const res = await api().post('/v1/mails').send(body).expect(202);
    const mailId = (res.body as { id: string }).id;
    await waitForMail(service.url, mailId, settled);
    const [mail] = await inbox.waitFor((m) => m.parsed.headers.get('x-mail-id') === mailId);
    return mail;
  }

  it('a subscription mail (PROFILE_COMPLETION_REQUEST), its List-Unsubscribe and List-Unsubscribe-Post signed', async () => {
    const mail = await sendMail({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['claire'] });
    expect(headerNames(mail.raw)).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']));
    await expectSigned(mail);
  });

  it('a transactional mail (CLIENT_PAYMENT_NOTIFICATION)', async () => {
    const mail = await sendMail({
      category: 'CLIENT_PAYMENT_NOTIFICATION',
      receiversId: ['claire'],
      reservationId: 'R-DKIM-1',
      variables: { amount: { amount: 480, currency: 'EUR' }, tripTitle: 'Lisbonne en été' },
    });
    await expectSigned(mail);
  });

  it('the contact mails of POST /v1/contacts (the acknowledgement to the visitor, the message to support)', async () => {
    await api()
      .post('/v1/contacts')
      .send({ name: 'Léa', mail: 'lea.visitor@example.com', object: 'Groupe', message: 'Bonjour, un devis pour 12 ?' })
      .expect(201);
    const [ack] = await inbox.waitFor((m) => m.envelopeTo.includes('lea.visitor@example.com'));
    expect(ack.parsed.replyTo).toBeDefined();
    await expectSigned(ack);
    expect(signedHeaders(ack.raw)).toContain('reply-to');
    const [support] = await inbox.waitFor(
      (m) => m.envelopeTo.includes('support@voyages.test') && m.raw.includes('lea.visitor@example.com'),
    );
    await expectSigned(support);
  });

  it('the unread digest (CONVERSATION_UNREAD_MESSAGES)', async () => {
    const { digest } = await unreadDigest(service.url, inbox, {
      customerId: 'claire',
      agentId: 'agent-1',
      address: 'claire.martin@example.com',
    });
    await expectSigned(digest);
  });

  it('fails against another key published under the selector (what a rotation done out of order looks like)', async () => {
    const mail = await sendMail({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['claire'] });
    const published = txt;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    txt = `v=DKIM1; k=rsa; p=${other.export({ type: 'spki', format: 'der' }).toString('base64')}`;
    try {
      expect((await verify(mail.raw))[0].result).toBe('fail');
    } finally {
      txt = published;
    }
  });

  it('a start with a key that cannot be read stops, naming DKIM_PRIVATE_KEY', async () => {
    const start = startApp({
      databaseUrl: 'postgres://nobody@127.0.0.1:1/none',
      smtpUrl: inbox.smtpUrl,
      env: { DKIM_DOMAIN: DOMAIN, DKIM_SELECTOR: SELECTOR, DKIM_PRIVATE_KEY: pem.slice(0, 300) },
    });
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(/DKIM_PRIVATE_KEY cannot be read/);
  });
});
