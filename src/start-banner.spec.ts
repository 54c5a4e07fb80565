import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from './config/app.config';
import { createLogger } from './logging';
import { announceStart } from './start-banner';

describe('announceStart: where everything is, once the service listens', () => {
  const local = { postgres: { dataDir: '.data/postgres' }, inbox: { url: 'http://localhost:1080', smtpPort: 1025 } };
  const env = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', SMTP_URL: 'smtp://127.0.0.1:25', PORT: '3000' };

  function capture(
    format: 'json' | 'pretty',
    more: Record<string, string> = {},
  ): { lines: string[]; printed: string[] } {
    const lines: string[] = [];
    const printed: string[] = [];
    const config = loadConfig({ ...env, LOG_FORMAT: format, ...more });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    announceStart(createLogger(config, sink), config, local, (text) => printed.push(text));
    return { lines, printed };
  }

  it('LOG_FORMAT=json: one JSON line with the addresses as fields, nothing printed beside the log', () => {
    const { lines, printed } = capture('json');
    expect(printed).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 30,
      msg: 'communication is running',
      runMode: 'all',
      api: 'http://localhost:3000/v1',
      docs: 'http://localhost:3000/docs',
      health: 'http://localhost:3000/health/ready',
      metrics: 'http://localhost:3000/metrics',
      postgres: { dataDir: '.data/postgres' },
      inbox: { url: 'http://localhost:1080', smtpPort: 1025 },
      inbound: { smtp: 'smtp://127.0.0.1:2525', domain: 'inbound.localhost' },
    });
  });

  it('LOG_FORMAT=pretty: the banner the README shows, for a person at a terminal', () => {
    const { lines, printed } = capture('pretty');
    expect(lines).toEqual([]);
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const shown = /```\n(communication is running[^`]*)```/.exec(readme)?.[1];
    expect(printed.join('')).toBe(`\n${shown}\n`);
  });

  it('names the inbound SMTP listener where it runs, with the domain its addresses have', () => {
    const pretty = (more: Record<string, string>) => capture('pretty', more).printed.join('');
    expect(pretty({ INBOUND_SMTP_PORT: '2626', INBOUND_DOMAIN: 'inbound.voyages.example' })).toContain(
      '  Inbound mail smtp://127.0.0.1:2626  (replies and bounces to *@inbound.voyages.example)\n',
    );
    // A worker has no listener; in production there is none unless INBOUND_SMTP_PORT is set.
    expect(pretty({ RUN_MODE: 'worker' })).not.toContain('Inbound mail');
    const production = {
      NODE_ENV: 'production',
      API_KEYS: 'svc:0123456789abcdef',
      PUBLIC_BASE_URL: 'https://communication.example.com',
    };
    expect(pretty(production)).not.toContain('Inbound mail');
    expect(pretty({ ...production, INBOUND_SMTP_PORT: '2525' })).toContain(
      '  Inbound mail smtp://0.0.0.0:2525  (INBOUND_DOMAIN unset: no mail sent names it)\n',
    );
    expect(JSON.parse(capture('json', { RUN_MODE: 'worker' }).lines[0])).not.toHaveProperty('inbound');
  });

  it('with DKIM_*, shows the TXT record to publish, built from the configured key (its public half only)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const dkim = {
      MAIL_FROM: 'Voyages <no-reply@voyages.example>',
      DKIM_DOMAIN: 'voyages.example',
      DKIM_SELECTOR: 'mail2025',
      DKIM_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
    };
    const record = `mail2025._domainkey.voyages.example TXT "v=DKIM1; k=rsa; p=${spki}"`;
    const printed = capture('pretty', dkim).printed.join('');
    expect(printed).toContain(`  DKIM         signing d=voyages.example s=mail2025; publish:\n    ${record}\n`);
    expect(JSON.parse(capture('json', dkim).lines[0])).toMatchObject({
      dkim: { name: 'mail2025._domainkey.voyages.example', type: 'TXT', value: `v=DKIM1; k=rsa; p=${spki}`, record },
    });
    const base64 = /MII[A-Za-z0-9+/]{40}/g;
    const secret = pem.replace(/-----[^-]+-----|\s/g, '');
    for (const text of [printed, capture('json', dkim).lines[0]])
      for (const [run] of text.matchAll(base64)) expect(secret).not.toContain(run);
    expect(capture('pretty').printed.join('')).not.toContain('DKIM');
    expect(JSON.parse(capture('json').lines[0])).not.toHaveProperty('dkim');
  });
});
