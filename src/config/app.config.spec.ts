import { loadConfig } from './app.config';
import { ConfigError } from './env.reader';

describe('loadConfig', () => {
  const local = { DATABASE_URL: 'postgres://u:p@localhost:5432/db', SMTP_URL: 'smtp://localhost:1025' };

  it('has working defaults for everything but the two URLs the local start fills in', () => {
    const config = loadConfig(local);
    expect(config).toMatchObject({
      production: false,
      runMode: 'all',
      http: { port: 3000, publicBaseUrl: undefined },
      mail: { from: 'Communication <no-reply@localhost>', contactInboxEmail: 'support@localhost', frontendBaseUrl: 'http://localhost:4200' },
    });
  });

  it('in production requires DATABASE_URL and SMTP_URL, naming both', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([expect.stringContaining('DATABASE_URL'), expect.stringContaining('SMTP_URL')]);
    }
  });

  it.each([
    ['PORT', 'eighty'],
    ['RUN_MODE', 'both'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['SMTP_URL', 'not a url'],
    ['MAIL_FROM', 'nobody'],
    ['MAIL_FROM', 'a@b.c\r\nBcc: x@y.z'],
    ['PUBLIC_BASE_URL', 'ftp://host'],
    ['LOG_LEVEL', 'loud'],
    ['DELIVERY_MAX_ATTEMPTS', '0'],
    ['DELIVERY_LEASE_SECONDS', '2'],
    ['SHUTDOWN_GRACE_SECONDS', 'soon'],
  ])('stops on a wrong %s, naming it', (name, value) => {
    expect(() => loadConfig({ ...local, [name]: value })).toThrow(new RegExp(`${name} must`));
  });

  it('refuses a retry ceiling below the base delay', () => {
    expect(() => loadConfig({ ...local, DELIVERY_RETRY_BASE_SECONDS: '60', DELIVERY_RETRY_MAX_SECONDS: '30' })).toThrow(/DELIVERY_RETRY_MAX_SECONDS must be at least/);
  });

  it('never shows a password of a wrong URL', () => {
    expect(() => loadConfig({ ...local, DATABASE_URL: 'mysql://user:secret@host/db' })).toThrow(/user:\*\*\*@host/);
  });
});
