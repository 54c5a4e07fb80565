import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { ClsServiceManager } from 'nestjs-cls';
import type { IncomingMessage } from 'node:http';
import { AppConfig } from './config/app.config';
import { RawRequest } from './common/correlation/correlation';

/**
 * JSON log lines; each carries the correlation id of the request or job it belongs to (read from
 * the CLS context, which the worker sets per job too). Secrets never reach a line.
 */
export function pinoOptions(config: AppConfig, destination?: NodeJS.WritableStream): Params {
  const options = {
    level: config.logLevel,
    genReqId: (req: IncomingMessage) => (req as RawRequest).correlationId ?? '',
    mixin: () => {
      const correlationId = ClsServiceManager.getClsService().getId();
      return correlationId ? { correlationId } : {};
    },
    customProps: (req: IncomingMessage) => ({ correlationId: (req as RawRequest).correlationId }),
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '***' },
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: req.url }),
    },
    autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' || req.url === '/metrics' },
  };
  return { pinoHttp: destination ? [options, destination as DestinationStream] : options };
}
