import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from './app.config';
import { ConfigError } from './env.reader';

describe('loadConfig', () => {
  const local = { DATABASE_URL: 'postgres://u:p@localhost:5432/db', SMTP_URL: 'smtp://localhost:1025' };

  it('has working defaults for everything but the two URLs the local start fills in', () => {
    const config = loadConfig(local);
    expect(config).toMatchObject({
      production: false,
      runMode: 'all',
      logFormat: 'pretty',
      http: { port: 3000, publicBaseUrl: undefined },
      mail: {
        from: 'Communication <no-reply@localhost>',
        contactInboxEmail: 'support@voyages.localhost',
        frontendBaseUrl: 'http://localhost:4200',
      },
    });
  });

  it('applies migrations at start unless MIGRATE_ON_START=false (a deploy that runs them once before its replicas)', () => {
    expect(loadConfig(local).database.migrateOnStart).toBe(true);
    expect(loadConfig({ ...local, MIGRATE_ON_START: 'false' }).database.migrateOnStart).toBe(false);
    expect(() => loadConfig({ ...local, MIGRATE_ON_START: 'no' })).toThrow(/MIGRATE_ON_START/);
  });

  it('writes JSON logs in production, and refuses a support address the contact form itself would refuse', () => {
    expect(
      loadConfig({
        ...local,
        NODE_ENV: 'production',
        AUTH_MODE: 'off',
        PUBLIC_BASE_URL: 'https://communication.example.com',
      }).logFormat,
    ).toBe('json');
    expect(() => loadConfig({ ...local, CONTACT_INBOX_EMAIL: 'support@localhost' })).toThrow(
      /CONTACT_INBOX_EMAIL must be a plain address/,
    );
    expect(loadConfig({ ...local, CONTACT_INBOX_EMAIL: 'Support <help@voyages.example>' }).mail.contactInboxEmail).toBe(
      'Support <help@voyages.example>',
    );
    expect(() => loadConfig({ ...local, LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT must be one of json, pretty/);
  });

  it('in production requires PUBLIC_BASE_URL where mails are sent (their unsubscribe links), not in an API-only process', () => {
    const production = { ...local, NODE_ENV: 'production', AUTH_MODE: 'off' };
    for (const mode of ['all', 'worker'])
      expect(() => loadConfig({ ...production, RUN_MODE: mode })).toThrow(/PUBLIC_BASE_URL is required/);
    expect(loadConfig({ ...production, RUN_MODE: 'api' }).http.publicBaseUrl).toBeUndefined();
  });

  it('in production requires DATABASE_URL, SMTP_URL and a way to authenticate callers, naming each', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://communication.example.com' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://communication.example.com' });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        expect.stringContaining('DATABASE_URL'),
        expect.stringContaining('SMTP_URL'),
        expect.stringMatching(/AUTH_MODE=on .*API_KEYS.*JWT_JWKS_URL.*JWT_PUBLIC_KEY/),
      ]);
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
    ['REQUEST_TIMEOUT_SECONDS', '0'],
    ['TRUST_PROXY', 'sometimes'],
    ['CORS_ORIGINS', 'https://app.example.com/'],
    ['CORS_ORIGINS', 'app.example.com'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
  ])('stops on a wrong %s, naming it', (name, value) => {
    expect(() => loadConfig({ ...local, [name]: value })).toThrow(new RegExp(`${name} must`));
  });

  it('refuses a retry ceiling below the base delay', () => {
    expect(() => loadConfig({ ...local, DELIVERY_RETRY_BASE_SECONDS: '60', DELIVERY_RETRY_MAX_SECONDS: '30' })).toThrow(
      /DELIVERY_RETRY_MAX_SECONDS must be at least/,
    );
  });

  it('refuses a directory timeout that does not fit inside the delivery lease', () => {
    expect(() => loadConfig({ ...local, DELIVERY_LEASE_SECONDS: '10', USER_DIRECTORY_TIMEOUT_MS: '10000' })).toThrow(
      /USER_DIRECTORY_TIMEOUT_MS must be shorter/,
    );
  });

  it('has the rate limits of the contract by default', () => {
    expect(loadConfig(local).rateLimit).toEqual({
      perMinute: 600,
      contactMessagesPerHour: 5,
      authFailuresPerMinute: 30,
    });
    // RATE_LIMIT_PER_MINUTE=0 turns the failed-authentication limit off too, unless it is set.
    expect(loadConfig({ ...local, RATE_LIMIT_PER_MINUTE: '0', CONTACT_RATE_LIMIT_PER_HOUR: '20' }).rateLimit).toEqual({
      perMinute: 0,
      contactMessagesPerHour: 20,
      authFailuresPerMinute: 0,
    });
    expect(
      loadConfig({ ...local, RATE_LIMIT_PER_MINUTE: '0', AUTH_FAILURE_LIMIT_PER_MINUTE: '10' }).rateLimit
        .authFailuresPerMinute,
    ).toBe(10);
    expect(() => loadConfig({ ...local, AUTH_FAILURE_LIMIT_PER_MINUTE: '-1' })).toThrow(
      /AUTH_FAILURE_LIMIT_PER_MINUTE/,
    );
  });

  describe('access control', () => {
    const production = { ...local, NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://communication.example.com' };
    const jwks = {
      JWT_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
      JWT_ISSUER: 'https://id.example.com/',
      JWT_AUDIENCE: 'communication',
    };
    const keys = { API_KEYS: 'booking:0123456789abcdef0123, payment:fedcba9876543210fedc' };

    it('is off locally and on in production', () => {
      expect(loadConfig(local).auth).toEqual({ mode: 'off', apiKeys: [], jwt: undefined });
      expect(loadConfig({ ...production, ...keys }).auth.mode).toBe('on');
    });

    it('reads API_KEYS as name:key pairs', () => {
      expect(loadConfig({ ...production, ...keys }).auth.apiKeys).toEqual([
        { name: 'booking', key: '0123456789abcdef0123' },
        { name: 'payment', key: 'fedcba9876543210fedc' },
      ]);
    });

    it('reads a JWT verifier with the algorithms pinned (RS256 and ES256 by default)', () => {
      expect(loadConfig({ ...production, ...jwks }).auth.jwt).toEqual({
        jwksUrl: jwks.JWT_JWKS_URL,
        publicKey: undefined,
        issuer: jwks.JWT_ISSUER,
        audience: 'communication',
        algorithms: ['RS256', 'ES256'],
        jwksCooldownSeconds: 30,
      });
    });

    it('accepts a PEM public key, also with its line breaks written as \\n', () => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const config = loadConfig({
        ...production,
        ...jwks,
        JWT_JWKS_URL: undefined,
        JWT_PUBLIC_KEY: pem.replace(/\n/g, '\\n'),
      });
      expect(config.auth.jwt?.publicKey).toBe(pem.trim());
    });

    it('refuses production with AUTH_MODE=on and nothing to check callers with, and also locally when asked for', () => {
      expect(() => loadConfig(production)).toThrow(
        /AUTH_MODE=on \(the default when NODE_ENV=production\) needs API_KEYS/,
      );
      expect(() => loadConfig({ ...local, AUTH_MODE: 'on' })).toThrow(/AUTH_MODE=on needs API_KEYS/);
      expect(loadConfig({ ...production, AUTH_MODE: 'off' }).auth.mode).toBe('off');
    });

    it.each([
      ['AUTH_MODE', { AUTH_MODE: 'maybe' }],
      ['API_KEYS', { API_KEYS: 'no-separator' }],
      ['API_KEYS', { API_KEYS: 'short:abc' }],
      ['API_KEYS', { API_KEYS: 'bad name:0123456789abcdef' }],
      ['API_KEYS', { API_KEYS: 'a:0123456789abcdef,a:fedcba9876543210' }],
      ['API_KEYS', { API_KEYS: 'a:0123456789abcdef,b:0123456789abcdef' }],
      ['JWT_JWKS_URL', { ...jwks, JWT_JWKS_URL: 'ftp://id.example.com/jwks' }],
      ['JWT_ALGORITHMS', { ...jwks, JWT_ALGORITHMS: 'none' }],
      ['JWT_ALGORITHMS', { ...jwks, JWT_ALGORITHMS: 'RS256,HS256' }],
      ['JWT_ISSUER', { ...jwks, JWT_ISSUER: undefined }],
      ['JWT_AUDIENCE', { ...jwks, JWT_AUDIENCE: undefined }],
      ['JWT_PUBLIC_KEY', { ...jwks, JWT_JWKS_URL: undefined, JWT_PUBLIC_KEY: 'not a key' }],
      ['JWT_PUBLIC_KEY', { ...jwks, JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----' }],
      ['JWT_ISSUER', { JWT_ISSUER: 'https://id.example.com/' }],
      ['RATE_LIMIT_PER_MINUTE', { RATE_LIMIT_PER_MINUTE: '-1' }],
      ['CONTACT_RATE_LIMIT_PER_HOUR', { CONTACT_RATE_LIMIT_PER_HOUR: 'five' }],
    ])('stops on a wrong %s, naming it', (name, env) => {
      expect(() => loadConfig({ ...local, ...env })).toThrow(new RegExp(`${name}`));
    });

    it('never shows an API key in a problem', () => {
      expect(() => loadConfig({ ...local, API_KEYS: 'ok:0123456789abcdef, b:short-secret' })).toThrow(
        /API_KEYS key of "b"/,
      );
      expect(() => loadConfig({ ...local, API_KEYS: 'ok:0123456789abcdef, b:short-secret' })).not.toThrow(/secret/);
    });

    it('refuses a key type that none of the pinned algorithms can verify', () => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(() =>
        loadConfig({ ...local, ...jwks, JWT_JWKS_URL: undefined, JWT_PUBLIC_KEY: pem, JWT_ALGORITHMS: 'RS256' }),
      ).toThrow(/JWT_ALGORITHMS \(RS256\) has no algorithm for the ec key/);
    });

    it('refuses a private key in JWT_PUBLIC_KEY', () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(() => loadConfig({ ...local, ...jwks, JWT_JWKS_URL: undefined, JWT_PUBLIC_KEY: pem })).toThrow(
        /JWT_PUBLIC_KEY must be a PEM public key/,
      );
    });
  });

  it('reads the webhook settings: private targets allowed locally only, https in production, a 32-byte secret key, the retry schedule', () => {
    expect(loadConfig(local).webhooks).toMatchObject({
      allowPrivateTargets: true,
      requireHttps: false,
      secretKey: undefined,
      retryScheduleSeconds: [5, 300, 1800, 7200, 18000, 36000],
      maxAgeHours: 72,
      timeoutSeconds: 10,
    });
    const production = {
      ...local,
      NODE_ENV: 'production',
      AUTH_MODE: 'off',
      PUBLIC_BASE_URL: 'https://communication.example.com',
    };
    expect(loadConfig(production).webhooks).toMatchObject({ allowPrivateTargets: false, requireHttps: true });
    expect(loadConfig({ ...production, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }).webhooks).toMatchObject({
      allowPrivateTargets: true,
      requireHttps: true,
    });
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ ...local, WEBHOOK_SECRET_KEY: key }).webhooks.secretKey).toEqual(Buffer.alloc(32, 7));
    expect(() => loadConfig({ ...local, WEBHOOK_SECRET_KEY: Buffer.alloc(16).toString('base64') })).toThrow(
      /WEBHOOK_SECRET_KEY must be 32 random bytes in base64/,
    );
    expect(() => loadConfig({ ...local, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'yes' })).toThrow(
      /WEBHOOK_ALLOW_PRIVATE_TARGETS must be one of true, false/,
    );
    expect(loadConfig({ ...local, WEBHOOK_RETRY_SCHEDULE_SECONDS: '1, 2' }).webhooks.retryScheduleSeconds).toEqual([
      1, 2,
    ]);
    expect(() => loadConfig({ ...local, WEBHOOK_RETRY_SCHEDULE_SECONDS: '1,soon' })).toThrow(
      /WEBHOOK_RETRY_SCHEDULE_SECONDS must be comma-separated whole seconds/,
    );
  });

  it('never shows a password of a wrong URL', () => {
    expect(() => loadConfig({ ...local, DATABASE_URL: 'mysql://user:secret@host/db' })).toThrow(/user:\*\*\*@host/);
  });

  it('reads the HTTP limits: timeout, trusted proxies and CORS origins', () => {
    expect(loadConfig(local).http).toMatchObject({ requestTimeoutSeconds: 30, trustProxy: false, corsOrigins: [] });
    const http = loadConfig({
      ...local,
      REQUEST_TIMEOUT_SECONDS: '5',
      TRUST_PROXY: '1',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:4200',
    }).http;
    expect(http).toMatchObject({
      requestTimeoutSeconds: 5,
      trustProxy: 1,
      corsOrigins: ['https://app.example.com', 'http://localhost:4200'],
    });
  });

  describe('DKIM', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const dkim = {
      ...local,
      MAIL_FROM: 'Voyages <no-reply@mail.voyages.example>',
      DKIM_DOMAIN: 'voyages.example',
      DKIM_SELECTOR: 'mail2025',
      DKIM_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
    };
    const problems = (env: Record<string, string | undefined>): string[] => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };

    it('is off without DKIM_*, and reads the key with its line breaks written as \\n, giving the TXT record to publish', () => {
      expect(loadConfig(local).dkim).toBeUndefined();
      const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      expect(loadConfig(dkim).dkim).toEqual({
        domainName: 'voyages.example',
        keySelector: 'mail2025',
        privateKey: pem.trim(),
        publicKeyDns: `v=DKIM1; k=rsa; p=${spki}`,
      });
      // A PKCS#1 key (openssl genrsa of old) with real line breaks reads as well.
      const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      expect(loadConfig({ ...dkim, DKIM_PRIVATE_KEY: pkcs1 }).dkim?.publicKeyDns).toBe(`v=DKIM1; k=rsa; p=${spki}`);
    });

    it('needs all three variables, naming each one missing', () => {
      expect(problems({ ...dkim, DKIM_SELECTOR: undefined, DKIM_PRIVATE_KEY: ' ' })).toEqual([
        'DKIM_SELECTOR is required when DKIM_DOMAIN is set (DKIM needs all three)',
        'DKIM_PRIVATE_KEY is required when DKIM_DOMAIN is set (DKIM needs all three)',
      ]);
      expect(problems({ ...dkim, DKIM_DOMAIN: undefined })).toEqual([
        'DKIM_DOMAIN is required when DKIM_SELECTOR and DKIM_PRIVATE_KEY are set (DKIM needs all three)',
      ]);
    });

    it('stops the start on a key it cannot read or sign with, naming DKIM_PRIVATE_KEY and never showing the key', () => {
      // A key damaged in its modulus still parses; its signatures then verify nowhere.
      const lines = pem.split('\n');
      lines[3] = `${lines[3].slice(0, 20)}AAAAAAAA${lines[3].slice(28)}`;
      for (const bad of ['not a key', pem.slice(0, 200), lines.join('\n')]) {
        const found = problems({ ...dkim, DKIM_PRIVATE_KEY: bad });
        expect(found).toEqual([expect.stringMatching(/^DKIM_PRIVATE_KEY cannot be read/)]);
        expect(found[0]).not.toMatch(/[A-Za-z0-9+/]{40}/);
      }
      // nodemailer signs with RSA-SHA256 and sends unsigned when that fails: other key types are refused.
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
      expect(problems({ ...dkim, DKIM_PRIVATE_KEY: ec.toString() })).toEqual([
        'DKIM_PRIVATE_KEY must be an RSA key (got ec): mails are signed with rsa-sha256',
      ]);
      const small = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      });
      expect(problems({ ...dkim, DKIM_PRIVATE_KEY: small.toString() })).toEqual([
        'DKIM_PRIVATE_KEY must be at least 1024 bits (2048 recommended; got 512)',
      ]);
      // A public key is no signing key.
      const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(problems({ ...dkim, DKIM_PRIVATE_KEY: pub })).toEqual([
        expect.stringMatching(/^DKIM_PRIVATE_KEY cannot be read/),
      ]);
    });

    it('refuses a domain or selector that is no DNS name, and a DKIM_DOMAIN not aligned with MAIL_FROM', () => {
      expect(problems({ ...dkim, DKIM_DOMAIN: 'voyages', DKIM_SELECTOR: 'mail_2025' })).toEqual([
        'DKIM_DOMAIN must be a domain name such as voyages.example (got "voyages")',
        'DKIM_SELECTOR must be a DNS label such as mail2025 (got "mail_2025")',
      ]);
      expect(loadConfig({ ...dkim, MAIL_FROM: 'no-reply@Voyages.Example' }).dkim?.domainName).toBe('voyages.example');
      expect(problems({ ...dkim, MAIL_FROM: 'Voyages <no-reply@notvoyages.example>' })).toEqual([
        "DKIM_DOMAIN (voyages.example) must be MAIL_FROM's domain (notvoyages.example) or a parent of it: an unaligned signature does not count for DMARC, Gmail or Yahoo",
      ]);
      expect(
        problems({ ...dkim, DKIM_DOMAIN: 'mail.voyages.example', MAIL_FROM: 'no-reply@voyages.example' }),
      ).toHaveLength(1);
    });
  });
});
