import { statusIn } from './fields';
import { classify, isHardBounce, parseInbound } from './index';

/** A message from its header lines and body. */
const message = (headers: string[], body: string) => Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`);
const read = async (headers: string[], body: string) => classify(await parseInbound(message(headers, body)));

const PERSON = ['From: Claire Martin <claire@example.org>', 'To: reply+abc@inbound.example.com'];

/** A DSN with one recipient group; `type` is the report part's content type. */
function dsn(
  recipientFields: string,
  wrapper = 'multipart/report; report-type=delivery-status',
  type = 'message/delivery-status',
) {
  return message(
    [
      'From: MAILER-DAEMON@mx.example.net',
      'To: bounces+abc@inbound.example.com',
      'Subject: Delivery report',
      'MIME-Version: 1.0',
      `Content-Type: ${wrapper}; boundary="b"`,
    ],
    `--b\r\nContent-Type: text/plain\r\n\r\nNotice\r\n--b\r\nContent-Type: ${type}\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n${recipientFields}\r\n--b--\r\n`,
  );
}

describe('isHardBounce', () => {
  it.each([
    ['5.1.1', true],
    ['5.1.10', true],
    ['5.1.2', true],
    ['5.2.1', true],
    ['5.1.7', false], // the sender's address
    ['5.1.8', false],
    ['5.2.2', false],
    ['5.3.4', false],
    ['5.7.1', false],
    ['5.7.133', false],
    ['5.0.0', false],
    ['4.1.1', false],
    ['', false],
  ])('%s → %s', (status, hard) => expect(isHardBounce(status)).toBe(hard));
});

describe('statusIn', () => {
  it('finds an enhanced status code, not a piece of an address or a version', () => {
    expect(statusIn('host 10.5.1.1 said: 550 5.1.1 unknown')).toBe('5.1.1');
    expect(statusIn('Microsoft SMTP Server id 15.1.112.19')).toBeUndefined();
    expect(statusIn('qmail said (#5.1.1).')).toBe('5.1.1');
    expect(statusIn('550-5.7.26 unauthenticated')).toBe('5.7.26');
  });
});

describe('classify', () => {
  it('reads a DSN: failed is BOUNCE, delayed only is DELAY, relayed only is neither', async () => {
    const failed = classify(
      await parseInbound(dsn('Final-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1')),
    );
    expect(failed).toMatchObject({
      kind: 'BOUNCE',
      recipients: [{ recipient: 'a@example.org', action: 'failed', status: '5.1.1' }],
    });
    const delayed = classify(
      await parseInbound(dsn('Final-Recipient: rfc822; a@example.org\r\nAction: delayed\r\nStatus: 4.4.1')),
    );
    expect(delayed.kind).toBe('DELAY');
    const relayed = classify(
      await parseInbound(dsn('Final-Recipient: rfc822; a@example.org\r\nAction: relayed\r\nStatus: 2.0.0')),
    );
    expect(relayed.kind).toBe('UNRECOGNISED');
  });

  it('takes the status from the Diagnostic-Code when the report gives none, or only x.0.0', async () => {
    const none = classify(
      await parseInbound(
        dsn('Final-Recipient: rfc822; a@example.org\r\nAction: failed\r\nDiagnostic-Code: smtp; 550 5.2.1 disabled'),
      ),
    );
    expect(none.recipients[0].status).toBe('5.2.1');
    const bare = classify(
      await parseInbound(
        dsn('Final-Recipient: rfc822; a@example.org\r\nAction: failed\r\nDiagnostic-Code: smtp; 550 no such user'),
      ),
    );
    expect(bare.recipients[0].status).toBe('5.0.0');
  });

  it('reads a DSN part that a gateway sent in multipart/mixed', async () => {
    const mixed = classify(
      await parseInbound(
        dsn('Original-Recipient: <a@example.org>\r\nAction: failed\r\nStatus: 5.1.1', 'multipart/mixed'),
      ),
    );
    expect(mixed).toMatchObject({ kind: 'BOUNCE', recipients: [{ recipient: 'a@example.org', status: '5.1.1' }] });
  });

  it('takes a read receipt (RFC 8098) for no reply', async () => {
    const receipt = await parseInbound(
      message(
        [
          ...PERSON,
          'Subject: Lu : Nouveau message',
          'MIME-Version: 1.0',
          'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"',
        ],
        '--b\r\nContent-Type: text/plain\r\n\r\nVotre message a été lu.\r\n--b\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; claire@example.org\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--b--\r\n',
      ),
    );
    expect(classify(receipt).kind).toBe('UNRECOGNISED');
  });

  it('takes a DMARC failure report or a not-spam mark for no complaint', async () => {
    const report = (type: string) =>
      message(
        [
          'From: dmarc@example.net',
          'To: bounces+abc@inbound.example.com',
          'MIME-Version: 1.0',
          'Content-Type: multipart/report; report-type=feedback-report; boundary="b"',
        ],
        `--b\r\nContent-Type: text/plain\r\n\r\nReport\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: ${type}\r\nVersion: 1\r\n\r\n--b--\r\n`,
      );
    expect(classify(await parseInbound(report('auth-failure'))).kind).toBe('UNRECOGNISED');
    expect(classify(await parseInbound(report('not-spam'))).kind).toBe('UNRECOGNISED');
    expect(classify(await parseInbound(report('abuse'))).kind).toBe('COMPLAINT');
  });

  it.each([
    ['Auto-Submitted: auto-replied'],
    ['Auto-Submitted: auto-generated; owner-email="x@example.org"'],
    ['Precedence: junk'],
    ['Precedence: list'],
    ['X-Autoreply: yes'],
    ['X-Autorespond: claire@example.org'],
    ['Subject: Réponse automatique : Nouveau message'],
    ['Subject: Out of Office: New message'],
  ])('takes %s for an auto-reply', async (header) => {
    expect((await read([...PERSON, header], 'Je suis absente.')).kind).toBe('AUTO_REPLY');
  });

  it('takes Auto-Submitted: no for a person', async () => {
    expect(await read([...PERSON, 'Auto-Submitted: no', 'Subject: Re: hello'], 'Yes.')).toMatchObject({
      kind: 'REPLY',
      replyText: 'Yes.',
    });
  });

  it('takes a person\'s "Re: Undeliverable" for a reply, and a mail system\'s unknown notice for no reply', async () => {
    expect((await read([...PERSON, 'Subject: Re: Undeliverable: your trip'], 'Why did this fail?')).kind).toBe('REPLY');
    const notice = await read(
      [
        'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>',
        'To: bounces+abc@inbound.example.com',
        'Subject: Notice',
      ],
      'Your message is queued.',
    );
    expect(notice.kind).toBe('UNRECOGNISED');
  });

  it('reads a plain-text bounce in any language that quotes a permanent SMTP reply', async () => {
    const bounce = await read(
      [
        'From: postmaster@mx.example.jp',
        'To: bounces+abc@inbound.example.com',
        'Subject: =?UTF-8?B?44Oh44O844Or44Ko44Op44O8?=',
      ],
      'Sent <<< RCPT TO:<a@example.jp>\nReceived >>> 550 5.1.1 <a@example.jp>... user unknown\n',
    );
    expect(bounce).toMatchObject({ kind: 'BOUNCE', recipients: [{ recipient: 'a@example.jp', status: '5.1.1' }] });
  });

  it('turns an HTML-only reply into unwrapped text before stripping it', async () => {
    const long =
      'Nous arriverons samedi vers midi avec deux enfants et un chien, est-ce que le logement accepte les animaux ?';
    const html = `<div>${long}</div><div class="gmail_quote">Le lun. 16 juin 2025 à 09:02, Voyages a écrit :<blockquote>Bonjour</blockquote></div>`;
    const reply = await read([...PERSON, 'Subject: Re: hello', 'Content-Type: text/html; charset=utf-8'], html);
    expect(reply).toMatchObject({ kind: 'REPLY', replyText: long });
  });
});
