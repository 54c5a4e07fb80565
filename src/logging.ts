import type { Params } from 'nestjs-pino';
import { ClsServiceManager } from 'nestjs-cls';
import pino, { DestinationStream, Logger } from 'pino';
import { AppConfig } from './config/app.config';

/** Paths whose requests are not logged: probes and scrapes would drown everything else. */
export const UNLOGGED_PATHS = new Set(['/health', '/health/ready', '/metrics']);

/**
 * JSON log lines; each carries the correlation id of the request or job it belongs to (read from
 * the CLS context, which the worker sets per job too). Secrets never reach a line.
 *
 * Written asynchronously (a synchronous write to stdout per line was a third of the API's CPU
 * under load) and flushed at exit. No per-request child logger either: the one "request
 * completed" line is written by an onResponse hook (app.setup.ts), so nestjs-pino's HTTP
 * middleware is mounted on no route and only serves as Nest's logger.
 */
export function createLogger(config: AppConfig, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level: config.logLevel,
    mixin: () => {
      const cls = ClsServiceManager.getClsService();
      const correlationId = cls.isActive() ? cls.getId() : undefined;
      return correlationId ? { correlationId } : {};
    },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '***' },
    serializers: { err: serializeError },
  };
  const hooks = { logMethod: quietNestStart };
  if (destination) return pino({ ...options, hooks }, destination as DestinationStream);
  if (config.logFormat === 'pretty') return pino({ ...options, hooks }, prettyStdout());
  const stdout = asyncStdout();
  return pino({ ...options, hooks: { ...hooks, streamWrite: stdout.written } }, stdout.stream);
}

/**
 * An error as logged: pino's standard fields and the error's own data (a pg error's code, severity,
 * detail), without the objects a driver hangs on it: pg-pool's `client` (~3 KB with its
 * connection parameters, the password included), a socket, a request. Nested errors likewise.
 */
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error);
  if (serialized === error || typeof serialized !== 'object' || serialized === null) return serialized;
  return withoutDriverObjects(
    serialized as unknown as Record<string, unknown>,
    Object.getPrototypeOf(serialized) as object,
  );
}

function withoutDriverObjects(serialized: Record<string, unknown>, errorPrototype: object): Record<string, unknown> {
  for (const key of Object.keys(serialized)) {
    const value = serialized[key];
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) continue;
    const prototype = Object.getPrototypeOf(value) as object | null;
    if (prototype === errorPrototype) withoutDriverObjects(value as Record<string, unknown>, errorPrototype);
    else if (prototype !== Object.prototype && prototype !== null) delete serialized[key];
  }
  return serialized;
}

/** What Nest says while it wires modules and routes (~50 lines at each start): debug, not info. */
const NEST_START_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

function quietNestStart(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn, level: number): void {
  const first = args[0] as { context?: unknown } | undefined;
  if (
    level === this.levels.values.info &&
    typeof first === 'object' &&
    first !== null &&
    NEST_START_CONTEXTS.has(String(first.context))
  ) {
    if (this.isLevelEnabled('debug')) this.debug(...(args as [object, string]));
    return;
  }
  method.apply(this, args);
}

/** LOG_FORMAT=pretty: one coloured line per entry for a person at a terminal (pino-pretty, in process). */
function prettyStdout(): DestinationStream {
  // Required lazily: production (json) never loads it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pretty = require('pino-pretty') as (options: object) => DestinationStream;
  return pretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}{context}: {end}{msg}',
    singleLine: true,
    sync: true,
  });
}

/** Injection token of this app's logger (for the request lines of app.setup.ts). */
export const APP_LOGGER = Symbol('APP_LOGGER');

/** nestjs-pino on top of `logger`, as Nest's logger only. */
export function pinoParams(logger: Logger): Params {
  return { pinoHttp: { logger }, forRoutes: [] };
}

/**
 * stdout, written in blocks of 4 KB. Lines written at a low rate (a quiet instance, LOG_LEVEL=warn:
 * the AUTH_MODE=off warning at start) would wait for hours for the block to fill: whatever is
 * buffered is written within a second.
 */
function asyncStdout(): { stream: DestinationStream; written(line: string): string } {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  let buffered = false;
  setInterval(() => {
    if (!buffered) return;
    buffered = false;
    try {
      stream.flush();
    } catch {
      // stdout closed: nothing more can be written.
    }
  }, 1000).unref();
  // What is still buffered at exit is written before the process ends.
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // stdout already closed: nothing more can be written.
    }
  });
  return {
    stream,
    written: (line) => {
      buffered = true;
      return line;
    },
  };
}

/**
 * Names of query parameters whose value is a secret, compared without case, punctuation or an
 * array suffix (`access_token`, `access_token[]`, `ACCESS-TOKEN`, `accessToken` are one name).
 */
const SECRET_PARAMETERS = new Set([
  'accesstoken',
  'token',
  'idtoken',
  'refreshtoken',
  'jwt',
  'authorization',
  'apikey',
]);
/** A JWT (JWS compact form: a base64url JSON header, `ey…`, a payload and a signature), wherever it appears. */
const JWT_SHAPE = /e[w-z0-9_-][A-Za-z0-9_-]{14,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
const HAS_JWT = new RegExp(JWT_SHAPE.source);

/**
 * A URL as logged: no token reaches a line, however it was sent. The query is cut where Fastify's
 * router cuts it (the first `?` or `#`) and into pairs at `&` as its parser does, and also at `;`,
 * `?` and `#`, which other parsers (proxies, frameworks, log tools) take for separators; a name is
 * read decoded (`access%5Ftoken`, `+`) and normalised. A JWT-shaped value is redacted under any name
 * and in the path too: a token sent where the server does not read it is still a token.
 */
export function redactUrl(url: string): string {
  const start = url.search(/[?#]/);
  const path = start === -1 ? url : url.slice(0, start);
  const loggedPath = path.replace(JWT_SHAPE, 'REDACTED');
  if (start === -1) return loggedPath;
  const query = url
    .slice(start + 1)
    .split(/([&;?#])/)
    .map((part, index) => (index % 2 === 1 ? part : redactPair(part)))
    .join('');
  return `${loggedPath}${url[start]}${query}`;
}

function redactPair(pair: string): string {
  const equals = pair.indexOf('=');
  if (equals === -1) return pair.replace(JWT_SHAPE, 'REDACTED');
  const name = pair.slice(0, equals);
  const value = pair.slice(equals + 1);
  if (SECRET_PARAMETERS.has(normaliseName(name))) return `${name}=REDACTED`;
  return HAS_JWT.test(decode(value)) ? `${name}=REDACTED` : pair;
}

/** `access%5Ftoken[]` → `accesstoken`: decoded (twice-encoded too), lower case, without `[…]` and punctuation. */
function normaliseName(name: string): string {
  return decode(name)
    .toLowerCase()
    .replace(/\[[^\]]*\]/g, '')
    .replace(/[^a-z0-9]/g, '');
}

/** Percent-decoding that never throws (a malformed `%` stays as it is), repeated while it changes anything. */
function decode(text: string): string {
  let current = text.replace(/\+/g, ' ');
  for (let round = 0; round < 3 && current.includes('%'); round++) {
    const next = current.replace(/%([0-9a-fA-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === current) break;
    current = next;
  }
  return current;
}
