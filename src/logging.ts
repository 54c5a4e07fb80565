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
  };
  const hooks = { logMethod: quietNestStart };
  if (!destination && config.logFormat === 'pretty') return pino({ ...options, hooks }, prettyStdout());
  return pino({ ...options, hooks }, (destination as DestinationStream | undefined) ?? asyncStdout());
}

/** What Nest says while it wires modules and routes (~50 lines at each start): debug, not info. */
const NEST_START_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

function quietNestStart(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn, level: number): void {
  const first = args[0] as { context?: unknown } | undefined;
  if (level === this.levels.values.info && typeof first === 'object' && first !== null && NEST_START_CONTEXTS.has(String(first.context))) {
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
  return pretty({ colorize: process.stdout.isTTY === true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,context', messageFormat: '{if context}{context}: {end}{msg}', singleLine: true, sync: true });
}

/** Injection token of this app's logger (for the request lines of app.setup.ts). */
export const APP_LOGGER = Symbol('APP_LOGGER');

/** nestjs-pino on top of `logger`, as Nest's logger only. */
export function pinoParams(logger: Logger): Params {
  return { pinoHttp: { logger }, forRoutes: [] };
}

function asyncStdout(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  // What is still buffered at exit is written before the process ends.
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // stdout already closed: nothing more can be written.
    }
  });
  return stream;
}
