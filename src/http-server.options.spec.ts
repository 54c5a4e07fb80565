import { loadConfig } from './config/app.config';
import { clientErrorName, fastifyOptions, MAX_URL_LENGTH } from './http-server.options';

const config = (env: Record<string, string> = {}) =>
  loadConfig({ DATABASE_URL: 'postgres://u:p@localhost/db', SMTP_URL: 'smtp://localhost:25', ...env });

describe('fastifyOptions', () => {
  it('bounds bodies, URLs and every timeout', () => {
    const options = fastifyOptions(config({ REQUEST_TIMEOUT_SECONDS: '12' }));
    expect(options).toMatchObject({
      bodyLimit: 1024 * 1024,
      routerOptions: { maxParamLength: MAX_URL_LENGTH },
      requestTimeout: 12_000,
      connectionTimeout: 12_000,
      keepAliveTimeout: 12_000,
      http: { headersTimeout: 12_000 },
      trustProxy: false,
    });
    expect(MAX_URL_LENGTH).toBeGreaterThanOrEqual(255);
  });

  it.each([
    [undefined, false],
    ['false', false],
    ['true', true],
    ['2', 2],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 192.168.1.1,::1 ,fd00::/8,loopback', ['10.0.0.0/8', '192.168.1.1', '::1', 'fd00::/8', 'loopback']],
  ])('reads TRUST_PROXY=%s', (value, expected) => {
    expect(fastifyOptions(config(value === undefined ? {} : { TRUST_PROXY: value })).trustProxy).toEqual(expected);
  });

  it.each(['yes', '10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/1', '0'])(
    'refuses TRUST_PROXY=%s, naming it',
    (value) => {
      expect(() => config({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY must/);
    },
  );
});

describe('clientErrorName', () => {
  const error = (code: string, rawPacket?: string) =>
    Object.assign(new Error(code), { code, rawPacket: rawPacket === undefined ? undefined : Buffer.from(rawPacket) });

  it('tells a long request line (414) from long headers (431)', () => {
    expect(clientErrorName(error('HPE_HEADER_OVERFLOW', `GET /v1/mails?x=${'a'.repeat(20_000)}`))).toBe('URI_TOO_LONG');
    expect(clientErrorName(error('HPE_HEADER_OVERFLOW', `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}`))).toBe(
      'HEADERS_TOO_LARGE',
    );
    expect(clientErrorName(error('HPE_HEADER_OVERFLOW'))).toBe('HEADERS_TOO_LARGE');
  });

  it('names a timeout and anything else Node refuses', () => {
    expect(clientErrorName(error('ERR_HTTP_REQUEST_TIMEOUT'))).toBe('REQUEST_TIMEOUT');
    expect(clientErrorName(error('HPE_INVALID_METHOD'))).toBe('MALFORMED_REQUEST');
  });
});
