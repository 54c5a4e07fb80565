import { generateKeyPairSync } from 'node:crypto';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { createTransport } from 'nodemailer';
import { loadConfig } from '../config/app.config';
import { classifySmtpError, dkimOptions, smtpOptionsFromUrl, smtpTimeouts } from './smtp.transport';

describe('SMTP transport settings', () => {
  it('reads host, port, TLS and credentials from the URL (nodemailer would drop every other option next to `url`)', () => {
    expect(smtpOptionsFromUrl('smtp://user%40corp:p%3Ass@relay.example.com:2525')).toEqual({
      host: 'relay.example.com',
      port: 2525,
      secure: false,
      auth: { user: 'user@corp', pass: 'p:ss' },
    });
    expect(smtpOptionsFromUrl('smtps://relay.example.com')).toEqual({
      host: 'relay.example.com',
      port: 465,
      secure: true,
      auth: undefined,
    });
    expect(smtpOptionsFromUrl('smtp://[::1]:1025')).toMatchObject({ host: '::1', port: 1025 });
  });

  it('keeps every SMTP timeout shorter than the delivery lease', () => {
    for (const lease of [5, 20, 60, 600]) {
      const timeouts = smtpTimeouts(lease);
      for (const value of Object.values(timeouts)) expect(value).toBeLessThan(lease * 1000);
    }
    expect(smtpTimeouts(60)).toEqual({ connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  });

  it('treats only a 5xx reply as final', () => {
    expect(classifySmtpError({ responseCode: 550, response: '550 5.1.1 No such user', command: 'RCPT TO' })).toEqual({
      permanent: true,
      responseCode: 550,
      response: '550 5.1.1 No such user',
      command: 'RCPT TO',
    });
    expect(classifySmtpError({ responseCode: 451, response: '451 Try later' })).toMatchObject({
      permanent: false,
      response: '451 Try later',
    });
    expect(classifySmtpError({ code: 'ETIMEDOUT', message: 'Greeting never received' })).toMatchObject({
      permanent: false,
      response: 'ETIMEDOUT: Greeting never received',
    });
    expect(classifySmtpError(undefined)).toMatchObject({ permanent: false, response: 'SMTP error' });
  });
});

describe('DKIM signing options', () => {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const config = loadConfig({
    DATABASE_URL: 'postgres://u@localhost/db',
    SMTP_URL: 'smtp://localhost:1025',
    MAIL_FROM: 'Voyages <no-reply@voyages.example>',
    DKIM_DOMAIN: 'voyages.example',
    DKIM_SELECTOR: 'unit',
    DKIM_PRIVATE_KEY: pem,
  });

  it('is off without DKIM_*, and lists List-Unsubscribe-Post, which nodemailer leaves out by default', () => {
    expect(dkimOptions(undefined)).toBeUndefined();
    const options = dkimOptions(config.dkim)!;
    expect(options).toMatchObject({ domainName: 'voyages.example', keySelector: 'unit', hashAlgo: 'sha256' });
    expect(options.headerFieldNames!.toLowerCase().split(':')).toEqual(
      expect.arrayContaining([
        'from',
        'to',
        'subject',
        'date',
        'message-id',
        'reply-to',
        'list-unsubscribe',
        'list-unsubscribe-post',
      ]),
    );
  });

  it('makes nodemailer sign relaxed/relaxed rsa-sha256 over those headers, as a verifier checks it', async () => {
    const transport = createTransport({ streamTransport: true, buffer: true, dkim: dkimOptions(config.dkim) });
    const info = await transport.sendMail({
      from: config.mail.from,
      to: 'claire@example.com',
      replyTo: 'reply+token@inbound.voyages.example',
      subject: 'Votre paiement',
      text: 'Bonjour',
      messageId: '<m1@voyages.example>',
      headers: {
        'List-Unsubscribe': '<https://voyages.example/u/1>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
    const raw = (info.message as Buffer).toString('utf8');
    const resolver = (name: string): Promise<string[][]> =>
      name === 'unit._domainkey.voyages.example'
        ? Promise.resolve([[config.dkim!.publicKeyDns]])
        : Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    const [result] = (await dkimVerify(raw, { resolver })).results;
    // mailauth's typings say algorithm/canonicalization; the result has algo/format.
    expect(result as unknown).toMatchObject({
      signingDomain: 'voyages.example',
      selector: 'unit',
      algo: 'rsa-sha256',
      format: 'relaxed/relaxed',
      status: { result: 'pass', aligned: 'voyages.example' },
    });
    const signed = /^DKIM-Signature:[^]*?\bh=([^;]+);/m.exec(raw)![1].replace(/\s+/g, '').split(':');
    expect(signed).toEqual(
      expect.arrayContaining([
        'from',
        'to',
        'subject',
        'date',
        'message-id',
        'reply-to',
        'list-unsubscribe',
        'list-unsubscribe-post',
      ]),
    );
  });
});
