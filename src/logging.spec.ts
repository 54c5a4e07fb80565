import { parse as parseQuery } from 'fast-querystring';
import { Writable } from 'node:stream';
import { loadConfig } from './config/app.config';
import { createLogger, redactUrl } from './logging';

// A JWT's shape (header.payload.signature, base64url); its content does not matter here.
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjdXN0LTEiLCJyb2xlcyI6WyJjdXN0b21lciJdfQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

/** The query as Fastify reads it (find-my-way: after the first `?` or `#`; fast-querystring: `&` pairs, decoded). */
function serverQuery(url: string): Record<string, unknown> {
  const start = url.search(/[?#]/);
  return start === -1 ? {} : { ...parseQuery(url.slice(start + 1)) };
}

describe('redactUrl: no token reaches a log line, however the query spells it', () => {
  const spellings: Array<[string, string]> = [
    ['the plain parameter', `/v1/participants/p-1/events?access_token=${JWT}`],
    ['after a `;` separator', `/v1/participants/p-1/events?x=1;access_token=${JWT}`],
    ['only after `;`', `/v1/participants/p-1/events?;access_token=${JWT}`],
    ['as an array', `/v1/participants/p-1/events?access_token[]=${JWT}`],
    ['as an indexed array', `/v1/participants/p-1/events?access_token[0]=${JWT}`],
    ['with an encoded underscore', `/v1/participants/p-1/events?access%5Ftoken=${JWT}`],
    ['with encoded brackets', `/v1/participants/p-1/events?access_token%5B%5D=${JWT}`],
    ['encoded twice', `/v1/participants/p-1/events?access%255Ftoken=${JWT}`],
    ['with an encoded letter', `/v1/participants/p-1/events?%61ccess_token=${JWT}`],
    ['in capitals', `/v1/participants/p-1/events?ACCESS_TOKEN=${JWT}`],
    ['in mixed case', `/v1/participants/p-1/events?Access_Token=${JWT}`],
    ['camel-cased', `/v1/participants/p-1/events?accessToken=${JWT}`],
    ['with a `+` for a space', `/v1/participants/p-1/events?access+token=${JWT}`],
    ['repeated', `/v1/participants/p-1/events?access_token=x&access_token=${JWT}`],
    ['after a `#`', `/v1/participants/p-1/events#access_token=${JWT}`],
    ['after a second `?`', `/v1/participants/p-1/events?x=1?access_token=${JWT}`],
    ['under another name', `/v1/participants/p-1/events?t=${JWT}`],
    ['encoded inside another value', `/v1/participants/p-1/events?x=1%26access_token%3D${JWT}`],
    ['in the path', `/v1/participants/${JWT}/events`],
    ['as a bearer value', `/v1/participants/p-1/events?authorization=Bearer%20${JWT}`],
  ];

  it.each(spellings)('%s', (_name, url) => {
    const logged = redactUrl(url);
    expect(logged).not.toContain(JWT);
    expect(logged).toContain('REDACTED');
    // And as the server would parse what is logged: no value holds the token.
    expect(JSON.stringify(serverQuery(logged))).not.toContain(JWT.slice(0, 20));
  });

  it('keeps the rest of the URL as sent', () => {
    expect(redactUrl(`/v1/participants/p-1/events?x=1;access_token=${JWT}&sizePage=5`)).toBe(
      '/v1/participants/p-1/events?x=1;access_token=REDACTED&sizePage=5',
    );
    expect(redactUrl(`/v1/conversations/c-1/events?access_token[]=${JWT}`)).toBe(
      '/v1/conversations/c-1/events?access_token[]=REDACTED',
    );
    expect(redactUrl(`/v1/x?access%5Ftoken=${JWT}`)).toBe('/v1/x?access%5Ftoken=REDACTED');
  });

  it('leaves URLs without a token alone', () => {
    for (const url of [
      '/v1/mails',
      '/v1/mails?status=FAILED&currentPage=2',
      '/v1/mails?from=2027-01-01T00:00:00.000Z',
      '/v1/recipients/user.name@example.com.au',
      '/v1/x?access_tokens=1;a=b',
    ]) {
      expect(redactUrl(url)).toBe(url);
    }
  });
});

describe('createLogger: errors', () => {
  it("never writes a driver's connection object hung on an error (pg-pool's `client`), nor one nested in a cause", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger(
      loadConfig({
        DATABASE_URL: 'postgres://u:secret-password@127.0.0.1:5432/db',
        SMTP_URL: 'smtp://127.0.0.1:25',
        LOG_FORMAT: 'json',
      }),
      sink,
    );
    class Client {
      connectionParameters = { user: 'postgres', password: 'secret-password', host: '127.0.0.1' };
      _events = {};
    }
    const error = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
      severity: 'FATAL',
      client: new Client(),
    });
    const wrapped = Object.assign(new Error('query failed', { cause: error }), {
      driverError: error,
      query: 'SELECT 1',
    });
    logger.error({ err: error }, 'Queue error');
    logger.error({ err: wrapped }, 'Query failed');
    const [first, second] = lines.map((line) => JSON.parse(line) as { err: Record<string, unknown> });
    expect(lines.join('')).not.toContain('secret-password');
    expect(lines.join('')).not.toContain('connectionParameters');
    expect(first.err).toMatchObject({
      type: 'Error',
      message: 'terminating connection due to administrator command',
      code: '57P01',
      severity: 'FATAL',
    });
    expect(first.err).not.toHaveProperty('client');
    expect(second.err).toMatchObject({
      message: expect.stringContaining('query failed'),
      query: 'SELECT 1',
      driverError: { code: '57P01' },
    });
  });
});
