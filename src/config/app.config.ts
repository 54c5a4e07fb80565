import { Inject } from '@nestjs/common';
import { isIP } from 'node:net';
import { createPrivateKey, createPublicKey, createSign, createVerify, KeyObject, randomBytes } from 'node:crypto';
import { isPlainEmail } from './plain-email';
import { ConfigError, Env, EnvReader } from './env.reader';

export const RUN_MODES = ['all', 'api', 'worker'] as const;
export type RunMode = (typeof RUN_MODES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface HttpConfig {
  port: number;
  /** Base of every `links[].href`; undefined means "built from the request". */
  publicBaseUrl?: string;
  bodyLimitBytes: number;
  /** Bound on receiving a request, on an idle connection and on keep-alive (REQUEST_TIMEOUT_SECONDS). */
  requestTimeoutSeconds: number;
  /**
   * Which proxies' `X-Forwarded-For` to believe (TRUST_PROXY): false (unset: the socket's address),
   * true (any), a number of hops, or addresses/CIDRs of the proxies.
   */
  trustProxy: boolean | number | string[];
  /** Origins a browser may call the API from (CORS_ORIGINS); empty: no CORS headers at all. */
  corsOrigins: string[];
}

export interface DatabaseConfig {
  /** Undefined only before the local defaults have started an embedded Postgres. */
  url: string;
  poolSize: number;
  /**
   * Apply pending migrations at start (MIGRATE_ON_START, default true). A deploy of several
   * replicas sets false and applies them once before (`npm run migrate`, compose's `migrate`).
   */
  migrateOnStart: boolean;
}

export interface MailConfig {
  smtpUrl: string;
  from: string;
  contactInboxEmail: string;
  frontendBaseUrl: string;
}

export interface DeliveryConfig {
  /** First retry delay of a temporary failure; it doubles per attempt, with jitter. */
  retryBaseSeconds: number;
  /** The longest wait between two attempts. */
  retryMaxSeconds: number;
  /** Attempts (the first one included) before a delivery fails with RETRIES_EXHAUSTED. */
  maxAttempts: number;
  /** How long after it was due a delivery may still be retried before it fails with EXPIRED. */
  maxAgeHours: number;
  /** A claimed delivery whose worker died is taken up again after this; every SMTP timeout is shorter. */
  leaseSeconds: number;
  /** Deliveries a worker handles at once. */
  concurrency: number;
  pollingIntervalSeconds: number;
  smtpPoolSize: number;
  /** SIGTERM: in-flight deliveries get this long to finish before the process exits. */
  shutdownGraceSeconds: number;
}

export interface DirectoryConfig {
  userDirectoryUrl?: string;
  cacheTtlSeconds: number;
  timeoutMs: number;
}

export const AUTH_MODES = ['on', 'off'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
/** Asymmetric signatures only: `none` and the HMAC family (a public key used as a shared secret) never verify a token. */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface ApiKey {
  /** Who the caller is (logs, idempotency scope, rate limit); never the secret. */
  name: string;
  key: string;
}

export interface JwtConfig {
  /** A JWKS endpoint (keys fetched, cached and refetched on an unknown `kid`)… */
  jwksUrl?: string;
  /** …or one PEM public key. */
  publicKey?: string;
  issuer: string;
  audience: string;
  algorithms: JwtAlgorithm[];
  /** Least time between two JWKS fetches caused by unknown key ids. */
  jwksCooldownSeconds: number;
}

export interface AuthConfig {
  mode: AuthMode;
  apiKeys: ApiKey[];
  /** Undefined when people's tokens are not accepted. */
  jwt?: JwtConfig;
}

export interface RateLimitConfig {
  /** Requests per minute per API key, token subject or client address; 0 turns the limit off. */
  perMinute: number;
  /**
   * Contact messages that cause mail (new threads and replies) per hour per visitor address and per
   * client address, services and admins excepted; 0 turns it off.
   */
  contactMessagesPerHour: number;
  /** Failed authentications (401) per minute per client address before it is refused (429); 0 turns it off. */
  authFailuresPerMinute: number;
}

export interface WebhookConfig {
  /** Targets may resolve to loopback, private or link-local addresses (WEBHOOK_ALLOW_PRIVATE_TARGETS). */
  allowPrivateTargets: boolean;
  /** Production: `https` targets only, whatever the flag above says. */
  requireHttps: boolean;
  /** 32-byte AES-256-GCM key that encrypts the signing secrets at rest (WEBHOOK_SECRET_KEY, base64); none: stored as given. */
  secretKey?: Buffer;
  /** Waits after the 1st, 2nd… failed attempt; the last one repeats (WEBHOOK_RETRY_SCHEDULE_SECONDS). */
  retryScheduleSeconds: number[];
  /** How long an event is retried, and how long an endpoint may fail before it is disabled (WEBHOOK_MAX_AGE_HOURS). */
  maxAgeHours: number;
  /** A whole call: connect, send, answer (WEBHOOK_TIMEOUT_SECONDS). */
  timeoutSeconds: number;
  /** Calls in flight per worker, and at most per endpoint, so one slow endpoint cannot take every slot. */
  concurrency: number;
  perEndpointConcurrency: number;
}

export interface InboundConfig {
  /**
   * Mail comes back to us: sent copies carry `bounces+`/`reply+` addresses. Locally always; in
   * production once INBOUND_DOMAIN says where (otherwise copies keep MAIL_FROM as envelope sender
   * and the Reply-To of before, since addresses of an unroutable domain would lose every answer).
   */
  enabled: boolean;
  /** Domain of the `bounces+{token}@` envelope senders and `reply+{token}@` Reply-To addresses (INBOUND_DOMAIN). */
  domain: string;
  /** HMAC key of those tokens (INBOUND_SECRET); required in production when INBOUND_DOMAIN is set. */
  secret: Buffer;
  /** Port of the inbound SMTP listener (INBOUND_SMTP_PORT); undefined: no listener (production default). */
  smtpPort?: number;
  /** Address the listener binds (INBOUND_SMTP_HOST): all interfaces in production, loopback locally. */
  smtpHost: string;
  /** Largest message accepted, by the listener (`552` beyond) and by the HTTP way (`413`). */
  maxBytes: number;
  /** Raw inbound messages are deleted after this many days (INBOUND_RETENTION_DAYS). */
  retentionDays: number;
}

export interface RetentionConfig {
  /** Days a mail is kept before it is purged, for a category without a setting of its own (MAIL_RETENTION_DAYS; 0: for ever). */
  mailDays: number;
  /** Days an ARCHIVED conversation keeps its messages' content (CONVERSATION_RETENTION_DAYS; 0: for ever). */
  conversationDays: number;
  /** Seconds between two runs of the maintenance job, every retention of the service (RETENTION_PURGE_INTERVAL_SECONDS). */
  purgeIntervalSeconds: number;
}

export interface FilesConfig {
  /** Largest upload of POST /v1/files (FILE_MAX_BYTES): 413 beyond, read no further. */
  maxBytes: number;
}

export interface LiveConfig {
  /** A message still unread this long after it was sent mails its receiver a digest. */
  unreadMailDelaySeconds: number;
  /** At most one unread digest per receiver per this period. */
  unreadMailIntervalSeconds: number;
  /** A comment line this often keeps proxies from closing an idle event stream. */
  sseHeartbeatSeconds: number;
  /** Bytes a stream may hold unsent before its slow client is dropped (it reconnects with Last-Event-ID). */
  sseBufferBytes: number;
  /**
   * Longest time events are held back while a transaction that may hold a smaller id is still
   * open (streams send ids in order); past it they are sent and that transaction's events follow late.
   */
  sseOrderWaitMs: number;
}

/** DKIM signing of every mail sent (DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY: all three or none). */
export interface DkimConfig {
  /** The `d=` of the signature: MAIL_FROM's domain or a parent of it (alignment). */
  domainName: string;
  /** The `s=`: the key is published at `{keySelector}._domainkey.{domainName}`. */
  keySelector: string;
  /** PEM of the RSA private key, its `\n` escapes turned into line breaks. */
  privateKey: string;
  /** The value of the TXT record to publish: `v=DKIM1; k=rsa; p=<base64 of the SPKI DER public key>`. */
  publicKeyDns: string;
}

export interface AppConfig {
  production: boolean;
  runMode: RunMode;
  logLevel: LogLevel;
  logFormat: LogFormat;
  http: HttpConfig;
  database: DatabaseConfig;
  mail: MailConfig;
  delivery: DeliveryConfig;
  directory: DirectoryConfig;
  auth: AuthConfig;
  rateLimit: RateLimitConfig;
  webhooks: WebhookConfig;
  inbound: InboundConfig;
  retention: RetentionConfig;
  live: LiveConfig;
  files: FilesConfig;
  /** Undefined: mails leave unsigned (DKIM_* unset). */
  dkim?: DkimConfig;
}

/** Injection token of the configuration; nothing but `loadConfig` reads `process.env`. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const InjectConfig = (): ParameterDecorator => Inject(APP_CONFIG);

/**
 * Builds the whole configuration from the environment. Every problem is collected and reported
 * together, each naming its variable. In production nothing is embedded, so DATABASE_URL and
 * SMTP_URL are required; locally they are filled in by the embedded services before this runs.
 */
export function loadConfig(env: Env): AppConfig {
  const read = new EnvReader(env);
  const production = env.NODE_ENV === 'production';
  const why = production ? 'when NODE_ENV=production (nothing is embedded)' : '';

  const config: AppConfig = {
    production,
    runMode: read.oneOf('RUN_MODE', RUN_MODES, 'all'),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    // JSON lines for log collectors in production; readable lines for a person at a terminal.
    logFormat: read.oneOf('LOG_FORMAT', LOG_FORMATS, production ? 'json' : 'pretty'),
    http: {
      port: read.int('PORT', 3000, 0, 65535),
      publicBaseUrl: read.url('PUBLIC_BASE_URL', ['http:', 'https:']),
      bodyLimitBytes: 1024 * 1024,
      requestTimeoutSeconds: read.int('REQUEST_TIMEOUT_SECONDS', 30, 1, 3600),
      trustProxy: trustProxy(read),
      corsOrigins: corsOrigins(read),
    },
    database: {
      url: read.url('DATABASE_URL', ['postgres:', 'postgresql:']) ?? read.required('DATABASE_URL', why),
      poolSize: read.int('DATABASE_POOL_SIZE', 10, 1, 200),
      migrateOnStart: read.oneOf('MIGRATE_ON_START', ['true', 'false'], 'true') === 'true',
    },
    mail: {
      smtpUrl: read.url('SMTP_URL', ['smtp:', 'smtps:']) ?? read.required('SMTP_URL', why),
      from: read.email('MAIL_FROM', 'Communication <no-reply@localhost>'),
      // `.localhost` never leaves the machine, and the address passes the contact form's own rule.
      contactInboxEmail: read.email('CONTACT_INBOX_EMAIL', 'support@voyages.localhost'),
      frontendBaseUrl: read.url('FRONTEND_BASE_URL', ['http:', 'https:']) ?? 'http://localhost:4200',
    },
    delivery: {
      retryBaseSeconds: read.int('DELIVERY_RETRY_BASE_SECONDS', 30, 1, 86400),
      retryMaxSeconds: read.int('DELIVERY_RETRY_MAX_SECONDS', 3600, 1, 86400),
      maxAttempts: read.int('DELIVERY_MAX_ATTEMPTS', 10, 1, 100),
      maxAgeHours: read.int('DELIVERY_MAX_AGE_HOURS', 24, 1, 24 * 30),
      leaseSeconds: read.int('DELIVERY_LEASE_SECONDS', 60, 5, 3600),
      concurrency: read.int('DELIVERY_CONCURRENCY', 10, 1, 200),
      pollingIntervalSeconds: read.int('DELIVERY_POLLING_INTERVAL_SECONDS', 1, 1, 60),
      smtpPoolSize: read.int('SMTP_POOL_SIZE', 5, 1, 50),
      shutdownGraceSeconds: read.int('SHUTDOWN_GRACE_SECONDS', 25, 1, 600),
    },
    directory: {
      userDirectoryUrl: read.url('USER_DIRECTORY_URL', ['http:', 'https:']),
      cacheTtlSeconds: read.int('USER_DIRECTORY_CACHE_SECONDS', 300, 0, 86400),
      timeoutMs: read.int('USER_DIRECTORY_TIMEOUT_MS', 3000, 100, 60000),
    },
    auth: readAuth(read, production),
    rateLimit: readRateLimits(read),
    webhooks: readWebhooks(read, production),
    inbound: readInbound(read, production),
    retention: {
      mailDays: read.int('MAIL_RETENTION_DAYS', 365, 0, 36500),
      conversationDays: read.int('CONVERSATION_RETENTION_DAYS', 730, 0, 36500),
      purgeIntervalSeconds: read.int('RETENTION_PURGE_INTERVAL_SECONDS', 3600, 1, 86400),
    },
    live: {
      unreadMailDelaySeconds: read.int('UNREAD_MAIL_DELAY_SECONDS', 900, 1, 7 * 86400),
      unreadMailIntervalSeconds: read.int('UNREAD_MAIL_INTERVAL_SECONDS', 3600, 0, 7 * 86400),
      sseHeartbeatSeconds: read.int('SSE_HEARTBEAT_SECONDS', 25, 1, 3600),
      sseBufferBytes: read.int('SSE_BUFFER_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
      sseOrderWaitMs: read.int('SSE_ORDER_WAIT_MS', 5000, 10, 60_000),
    },
    files: { maxBytes: read.int('FILE_MAX_BYTES', 10 * 1024 * 1024, 1024, 100 * 1024 * 1024) },
  };
  const dkim = readDkim(read);
  if (dkim) config.dkim = dkim;
  checkDkimAlignment(read, config.mail.from, dkim);
  if (config.delivery.retryMaxSeconds < config.delivery.retryBaseSeconds) {
    read.problems.push(
      `DELIVERY_RETRY_MAX_SECONDS must be at least DELIVERY_RETRY_BASE_SECONDS (${config.delivery.retryBaseSeconds})`,
    );
  }
  if (production && config.runMode !== 'api' && config.http.publicBaseUrl === undefined) {
    // A worker has no request to build links from: the unsubscribe links of subscription mails
    // (contract A3) would point at localhost.
    read.problems.push(
      'PUBLIC_BASE_URL is required when NODE_ENV=production and RUN_MODE is all or worker: the unsubscribe links of subscription mails are built from it',
    );
  }
  if (config.directory.timeoutMs >= config.delivery.leaseSeconds * 1000) {
    read.problems.push(
      `USER_DIRECTORY_TIMEOUT_MS must be shorter than DELIVERY_LEASE_SECONDS (${config.delivery.leaseSeconds} s): a look-up happens inside a delivery's lease`,
    );
  }
  const supportAddress = /<([^<>]+)>\s*$/.exec(config.mail.contactInboxEmail)?.[1] ?? config.mail.contactInboxEmail;
  if (!isPlainEmail(supportAddress)) {
    // Support answers through the contact form with this address: it must pass the form's own rule.
    read.problems.push(
      `CONTACT_INBOX_EMAIL must be a plain address with a domain such as support@example.com (got "${config.mail.contactInboxEmail}")`,
    );
  }
  if (read.problems.length) throw new ConfigError(read.problems);
  return config;
}

/** Names proxy-addr (Fastify's `trustProxy`) understands besides addresses and CIDRs. */
const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** TRUST_PROXY: unset or `false`, `true`, a number of hops, or comma-separated addresses/CIDRs. */
function trustProxy(read: EnvReader): boolean | number | string[] {
  const value = read.raw('TRUST_PROXY');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return read.int('TRUST_PROXY', 0, 1, 100);
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const wrong = entries.filter((entry) => !PROXY_NAMES.includes(entry) && !isAddressOrCidr(entry));
  if (wrong.length || !entries.length) {
    read.problems.push(
      `TRUST_PROXY must be true, false, a number of hops or comma-separated proxy addresses/CIDRs (got "${value}")`,
    );
    return false;
  }
  return entries;
}

export function isAddressOrCidr(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** CORS_ORIGINS: comma-separated `scheme://host[:port]` origins, exactly as browsers send them. */
function corsOrigins(read: EnvReader): string[] {
  const value = read.raw('CORS_ORIGINS');
  if (value === undefined) return [];
  const origins = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const wrong = origins.filter((origin) => {
    try {
      const url = new URL(origin);
      return !['http:', 'https:'].includes(url.protocol) || url.origin !== origin;
    } catch {
      return true;
    }
  });
  if (wrong.length)
    read.problems.push(
      `CORS_ORIGINS must be comma-separated origins like https://app.example.com, without path or trailing slash (got "${wrong.join(', ')}")`,
    );
  return origins;
}

/**
 * AUTH_MODE is `on` by default in production and `off` locally. When on, at least one way in must
 * be configured (API keys or a JWT verifier), or nobody could ever call the service.
 */
function readAuth(read: EnvReader, production: boolean): AuthConfig {
  const mode = read.oneOf('AUTH_MODE', AUTH_MODES, production ? 'on' : 'off');
  const apiKeys = readApiKeys(read);
  const jwt = readJwt(read);
  if (mode === 'on' && apiKeys.length === 0 && !jwt) {
    read.problems.push(
      `AUTH_MODE=on${production ? ' (the default when NODE_ENV=production)' : ''} needs API_KEYS or a JWT verifier (JWT_JWKS_URL or JWT_PUBLIC_KEY, with JWT_ISSUER and JWT_AUDIENCE); set AUTH_MODE=off to run without access control`,
    );
  }
  return { mode, apiKeys, jwt };
}

const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_KEY_LENGTH = 16;

/** `name:key,name2:key2`. Problems name the entry by its name or position, never show a key. */
function readApiKeys(read: EnvReader): ApiKey[] {
  const value = read.raw('API_KEYS');
  if (value === undefined) return [];
  const keys: ApiKey[] = [];
  value.split(',').forEach((entry, index) => {
    const separator = entry.indexOf(':');
    const name = entry.slice(0, Math.max(separator, 0)).trim();
    const key = entry.slice(separator + 1).trim();
    if (separator < 0 || !KEY_NAME.test(name)) {
      read.problems.push(`API_KEYS entry ${index + 1} must be name:key, the name 1-64 of [A-Za-z0-9._-]`);
    } else if (key.length < MIN_KEY_LENGTH || /[\s,]/.test(key)) {
      read.problems.push(
        `API_KEYS key of "${name}" must be at least ${MIN_KEY_LENGTH} characters without spaces or commas`,
      );
    } else if (keys.some((other) => other.name === name)) {
      read.problems.push(`API_KEYS names must be unique ("${name}" is given twice)`);
    } else if (keys.some((other) => other.key === key)) {
      read.problems.push(`API_KEYS keys must be unique (the key of "${name}" is already another name's)`);
    } else {
      keys.push({ name, key });
    }
  });
  return keys;
}

function readJwt(read: EnvReader): JwtConfig | undefined {
  const jwksUrl = read.url('JWT_JWKS_URL', ['https:', 'http:']);
  // A PEM in one environment line usually has its line breaks written as \n.
  const publicKey = read.raw('JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n').trim();
  const algorithms = readAlgorithms(read);
  const jwksCooldownSeconds = read.int('JWT_JWKS_COOLDOWN_SECONDS', 30, 0, 3600);
  if (!jwksUrl && !publicKey) {
    for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE']) {
      if (read.raw(name) !== undefined)
        read.problems.push(`${name} is set but no JWT verifier is: set JWT_JWKS_URL or JWT_PUBLIC_KEY`);
    }
    return undefined;
  }
  if (jwksUrl && publicKey)
    read.problems.push(
      'JWT_JWKS_URL and JWT_PUBLIC_KEY are both set: tokens are verified against one of them, set only one',
    );
  if (publicKey) checkPublicKey(read, publicKey, algorithms);
  const why = 'when JWT_JWKS_URL or JWT_PUBLIC_KEY is set (tokens of other issuers or audiences must not get in)';
  return {
    jwksUrl,
    publicKey,
    issuer: read.required('JWT_ISSUER', why),
    audience: read.required('JWT_AUDIENCE', why),
    algorithms,
    jwksCooldownSeconds,
  };
}

function readAlgorithms(read: EnvReader): JwtAlgorithm[] {
  const value = read.raw('JWT_ALGORITHMS') ?? 'RS256,ES256';
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const wrong = names.filter((name) => !(JWT_ALGORITHMS as readonly string[]).includes(name));
  if (wrong.length || names.length === 0) {
    read.problems.push(
      `JWT_ALGORITHMS must be a comma-separated list of ${JWT_ALGORITHMS.join(', ')} (got "${value}"; none and HS* are never accepted)`,
    );
    return ['RS256', 'ES256'];
  }
  return [...new Set(names)] as JwtAlgorithm[];
}

/** The algorithms a key of each type can verify. */
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  rsa: ['RS', 'PS'],
  ec: ['ES'],
  ed25519: ['EdDSA'],
  ed448: ['EdDSA'],
};

function checkPublicKey(read: EnvReader, pem: string, algorithms: JwtAlgorithm[]): void {
  let key: KeyObject;
  try {
    if (/PRIVATE KEY/.test(pem)) throw new Error('private');
    key = createPublicKey(pem);
  } catch {
    read.problems.push('JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----), never a private key');
    return;
  }
  const families = ALGORITHMS_BY_KEY_TYPE[key.asymmetricKeyType ?? ''] ?? [];
  if (!algorithms.some((algorithm) => families.some((family) => algorithm.startsWith(family)))) {
    read.problems.push(
      `JWT_ALGORITHMS (${algorithms.join(', ')}) has no algorithm for the ${key.asymmetricKeyType ?? 'unknown'} key of JWT_PUBLIC_KEY`,
    );
  }
}

function readRateLimits(read: EnvReader): RateLimitConfig {
  const perMinute = read.int('RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000);
  return {
    perMinute,
    contactMessagesPerHour: read.int('CONTACT_RATE_LIMIT_PER_HOUR', 5, 0, 100_000),
    // Off with the request limit unless set: RATE_LIMIT_PER_MINUTE=0 means "no rate limiting here".
    authFailuresPerMinute: read.int('AUTH_FAILURE_LIMIT_PER_MINUTE', perMinute === 0 ? 0 : 30, 0, 1_000_000),
  };
}

/** The contract's backoff: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h (up to WEBHOOK_MAX_AGE_HOURS). */
export const WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000];

function readWebhooks(read: EnvReader, production: boolean): WebhookConfig {
  const allow = read.oneOf('WEBHOOK_ALLOW_PRIVATE_TARGETS', ['true', 'false'], production ? 'false' : 'true');
  let secretKey: Buffer | undefined;
  const key = read.raw('WEBHOOK_SECRET_KEY');
  if (key !== undefined) {
    secretKey = Buffer.from(key, 'base64');
    if (secretKey.length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
      read.problems.push('WEBHOOK_SECRET_KEY must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)');
      secretKey = undefined;
    }
  }
  let retryScheduleSeconds = WEBHOOK_RETRY_SCHEDULE;
  const schedule = read.raw('WEBHOOK_RETRY_SCHEDULE_SECONDS');
  if (schedule !== undefined) {
    const waits = schedule.split(',').map((entry) => Number(entry.trim()));
    if (!waits.length || waits.some((wait) => !Number.isInteger(wait) || wait < 1 || wait > 7 * 86400)) {
      read.problems.push(
        `WEBHOOK_RETRY_SCHEDULE_SECONDS must be comma-separated whole seconds between 1 and 604800 (got "${schedule}")`,
      );
    } else {
      retryScheduleSeconds = waits;
    }
  }
  return {
    allowPrivateTargets: allow === 'true',
    requireHttps: production,
    secretKey,
    retryScheduleSeconds,
    maxAgeHours: read.int('WEBHOOK_MAX_AGE_HOURS', 72, 1, 24 * 30),
    timeoutSeconds: read.int('WEBHOOK_TIMEOUT_SECONDS', 10, 1, 60),
    concurrency: read.int('WEBHOOK_CONCURRENCY', 64, 1, 1000),
    perEndpointConcurrency: read.int('WEBHOOK_ENDPOINT_CONCURRENCY', 16, 1, 1000),
  };
}

/**
 * Without INBOUND_SECRET: locally a fixed key, so the tokens of mails in the kept `.data/` inbox
 * still answer after a restart; in production (no INBOUND_DOMAIN, so no address routes to us) a
 * random one, so a key published here signs nothing there.
 */
const LOCAL_INBOUND_SECRET = Buffer.from('communication-local-inbound-secret-not-for-production');

function readInbound(read: EnvReader, production: boolean): InboundConfig {
  const domain = read.raw('INBOUND_DOMAIN');
  if (domain !== undefined && !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$/i.test(domain)) {
    read.problems.push(`INBOUND_DOMAIN must be a domain name such as inbound.example.com (got "${domain}")`);
  }
  const secretText = read.raw('INBOUND_SECRET');
  if (secretText !== undefined && Buffer.byteLength(secretText) < 32) {
    read.problems.push('INBOUND_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  }
  if (production && domain !== undefined && secretText === undefined) {
    read.problems.push('INBOUND_SECRET is required when NODE_ENV=production and INBOUND_DOMAIN is set');
  }
  const port = read.raw('INBOUND_SMTP_PORT');
  return {
    enabled: domain !== undefined || !production,
    domain: (domain ?? 'inbound.localhost').toLowerCase(),
    secret: secretText !== undefined ? Buffer.from(secretText) : production ? randomBytes(32) : LOCAL_INBOUND_SECRET,
    smtpPort: port !== undefined || !production ? read.int('INBOUND_SMTP_PORT', 2525, 0, 65535) : undefined,
    smtpHost: read.string('INBOUND_SMTP_HOST', production ? '0.0.0.0' : '127.0.0.1'),
    maxBytes: read.int('INBOUND_MAX_BYTES', 25 * 1024 * 1024, 1024, 200 * 1024 * 1024),
    retentionDays: read.int('INBOUND_RETENTION_DAYS', 30, 1, 3650),
  };
}

const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$/i;
/** A selector is one or more DNS labels (`mail2025`, `s1.eu`). */
const DKIM_SELECTOR = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const DKIM_NAMES = ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'] as const;

/**
 * DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY: all three or none. The key is read and tried
 * here, at start: nodemailer signs with `crypto.createSign('RSA-SHA256')` and, when that throws
 * (a key it cannot use, an EC or Ed25519 key), sends the mail *unsigned* without a word. A key
 * that signs once here signs every mail, so no mail leaves unsigned.
 */
function readDkim(read: EnvReader): DkimConfig | undefined {
  const given = DKIM_NAMES.filter((name) => read.raw(name) !== undefined);
  if (given.length === 0) return undefined;
  if (given.length < DKIM_NAMES.length) {
    for (const name of DKIM_NAMES.filter((name) => !given.includes(name)))
      read.problems.push(
        `${name} is required when ${given.join(' and ')} ${given.length > 1 ? 'are' : 'is'} set (DKIM needs all three)`,
      );
    return undefined;
  }
  const domainName = read.raw('DKIM_DOMAIN')!.toLowerCase();
  const keySelector = read.raw('DKIM_SELECTOR')!;
  // A PEM in one environment line usually has its line breaks written as \n.
  const privateKey = read.raw('DKIM_PRIVATE_KEY')!.replace(/\\n/g, '\n').trim();
  let ok = true;
  if (!DOMAIN_NAME.test(domainName)) {
    read.problems.push(`DKIM_DOMAIN must be a domain name such as voyages.example (got "${domainName}")`);
    ok = false;
  }
  if (!DKIM_SELECTOR.test(keySelector)) {
    read.problems.push(`DKIM_SELECTOR must be a DNS label such as mail2025 (got "${keySelector}")`);
    ok = false;
  }
  const publicKeyDns = dkimPublicKeyRecord(read, privateKey);
  if (!ok || publicKeyDns === undefined) return undefined;
  return { domainName, keySelector, privateKey, publicKeyDns };
}

/** Reads and tries the private key; returns the TXT record value of its public half. Never shows the key. */
function dkimPublicKeyRecord(read: EnvReader, pem: string): string | undefined {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    read.problems.push(
      'DKIM_PRIVATE_KEY cannot be read: it must be a PEM RSA private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----, line breaks as \\n in one line), without a passphrase',
    );
    return undefined;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa') {
    read.problems.push(
      `DKIM_PRIVATE_KEY must be an RSA key (got ${key.asymmetricKeyType ?? 'an unknown type'}): mails are signed with rsa-sha256`,
    );
    return undefined;
  }
  if (bits < 1024) {
    read.problems.push(`DKIM_PRIVATE_KEY must be at least 1024 bits (2048 recommended; got ${bits})`);
    return undefined;
  }
  // A damaged key may still parse (a changed byte of a prime): a signature that does not verify
  // against its own public half would fail at every receiver.
  try {
    const signature = createSign('RSA-SHA256').update('dkim').sign(key);
    if (!createVerify('RSA-SHA256').update('dkim').verify(createPublicKey(key), signature)) throw new Error('verify');
  } catch {
    read.problems.push(
      'DKIM_PRIVATE_KEY cannot be read as a working RSA key: a signature made with it does not verify (a damaged key?)',
    );
    return undefined;
  }
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
}

/**
 * Gmail and Yahoo count a DKIM signature for their sender rules only when it is aligned with the
 * From header (DMARC relaxed alignment): MAIL_FROM's domain must be DKIM_DOMAIN or under it.
 */
function checkDkimAlignment(read: EnvReader, from: string, dkim: DkimConfig | undefined): void {
  if (!dkim) return;
  const address = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
  const fromDomain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  if (fromDomain !== dkim.domainName && !fromDomain.endsWith(`.${dkim.domainName}`)) {
    read.problems.push(
      `DKIM_DOMAIN (${dkim.domainName}) must be MAIL_FROM's domain (${fromDomain}) or a parent of it: an unaligned signature does not count for DMARC, Gmail or Yahoo`,
    );
  }
}
