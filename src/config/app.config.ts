import { Inject } from '@nestjs/common';
import { ConfigError, Env, EnvReader } from './env.reader';

export const RUN_MODES = ['all', 'api', 'worker'] as const;
export type RunMode = (typeof RUN_MODES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HttpConfig {
  port: number;
  /** Base of every `links[].href`; undefined means "built from the request". */
  publicBaseUrl?: string;
  bodyLimitBytes: number;
}

export interface DatabaseConfig {
  /** Undefined only before the local defaults have started an embedded Postgres. */
  url: string;
  poolSize: number;
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

export interface AppConfig {
  production: boolean;
  runMode: RunMode;
  logLevel: LogLevel;
  http: HttpConfig;
  database: DatabaseConfig;
  mail: MailConfig;
  delivery: DeliveryConfig;
  directory: DirectoryConfig;
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
    http: {
      port: read.int('PORT', 3000, 0, 65535),
      publicBaseUrl: read.url('PUBLIC_BASE_URL', ['http:', 'https:']),
      bodyLimitBytes: 1024 * 1024,
    },
    database: {
      url: read.url('DATABASE_URL', ['postgres:', 'postgresql:']) ?? read.required('DATABASE_URL', why),
      poolSize: read.int('DATABASE_POOL_SIZE', 10, 1, 200),
    },
    mail: {
      smtpUrl: read.url('SMTP_URL', ['smtp:', 'smtps:']) ?? read.required('SMTP_URL', why),
      from: read.email('MAIL_FROM', 'Communication <no-reply@localhost>'),
      contactInboxEmail: read.email('CONTACT_INBOX_EMAIL', 'support@localhost'),
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
  };
  if (config.delivery.retryMaxSeconds < config.delivery.retryBaseSeconds) {
    read.problems.push(`DELIVERY_RETRY_MAX_SECONDS must be at least DELIVERY_RETRY_BASE_SECONDS (${config.delivery.retryBaseSeconds})`);
  }
  if (read.problems.length) throw new ConfigError(read.problems);
  return config;
}
