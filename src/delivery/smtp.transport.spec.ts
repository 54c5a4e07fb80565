import { classifySmtpError, smtpOptionsFromUrl, smtpTimeouts } from './smtp.transport';

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
