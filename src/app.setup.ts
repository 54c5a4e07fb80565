import fastifyCors from '@fastify/cors';
import fastifyMultipart from '@fastify/multipart';
import { INestApplication } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CLS_ID, ClsService } from 'nestjs-cls';
import { BASE_URL_KEY } from './common/links/links.builder';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger as PinoInstance } from 'pino';
import { attachRequestContext, CORRELATION_HEADER, RawRequest } from './common/correlation/correlation';
import { ApiError } from './common/errors/api-error';
import { applyHttpResult } from './common/http/http-result';
import { securityHeaders } from './common/http/security-headers';
import { registerJsonBodyParser } from './common/validation/json-body.parser';
import { guardMultipartRoutes, registerUnsubscribeFormParser } from './recipients/unsubscribe-form.parser';
import { AppConfig } from './config/app.config';
import { MetricsService } from './common/metrics/metrics.service';
import { MAX_URL_LENGTH } from './http-server.options';
import { APP_LOGGER, redactUrl, UNLOGGED_PATHS } from './logging';
import { buildOpenApiDocument } from './openapi';

/** Paths a `RUN_MODE=worker` process still serves: it has no API, only its probes and metrics. */
const OPERATIONS_PATHS = /^\/(health|health\/ready|metrics)(\?|$)/;

/** The API answers JSON only: nothing in a response may load or run anything. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** Swagger UI loads its own scripts and styles (and inline styles, data: images) from /docs. */
const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
/** A template preview is a mail: inline styles and remote images, but never a script. */
const PREVIEW_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; font-src https: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const DOCS_PATH = /^\/docs(?:[/?#.-]|$)/;
const PREVIEW_PATH = /^\/v1\/templates\/[^/?]+\/preview(?:\?|$)/;

/** Headers a browser may send and read across origins (when CORS_ORIGINS allows the origin). */
const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'If-Match',
  'Last-Event-ID',
  'X-Correlation-ID',
];
const CORS_EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Retry-After',
  'Idempotent-Replayed',
  'X-Correlation-ID',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
];

/**
 * Everything about the HTTP side that is not a route: the correlation id on every request and
 * response, JSON as the only body, security headers and CORS, error bodies for what Fastify
 * rejects itself, metrics, and the Swagger UI. The server's own options (limits, timeouts,
 * proxies) are in http-server.options.ts.
 */
export function configureApp(app: NestFastifyApplication, config: AppConfig): void {
  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);
  let closing = false;

  app.useLogger(app.get(NestPinoLogger));
  registerJsonBodyParser(fastify, config.http.bodyLimitBytes);
  // POST /v1/inbound/messages: a raw message, up to INBOUND_MAX_BYTES (413 beyond, read no further).
  fastify.addContentTypeParser(
    'message/rfc822',
    { parseAs: 'buffer', bodyLimit: config.inbound.maxBytes },
    (_request: FastifyRequest, body: Buffer, done: (error: null, body: Buffer) => void) => done(null, body),
  );
  // POST /v1/unsubscribe/{token} alone reads a form (RFC 8058 one-click); every other route answers it 415.
  registerUnsubscribeFormParser(fastify);
  // multipart/form-data: @fastify/multipart marks the request and leaves the body unread; POST
  // /v1/files streams its one part with its own limits (FILE_MAX_BYTES), the unsubscribe POST reads
  // it bounded and drops it, every other route answers 415.
  void app.register(fastifyMultipart, {
    limits: { fileSize: config.files.maxBytes + 1, files: 1, fields: 5, parts: 5, fieldSize: 1024, headerPairs: 20 },
  });
  guardMultipartRoutes(fastify);

  // The request's context (correlation id, base URL of links) for everything done on its behalf,
  // entered in the first hook: cheaper than a Nest middleware, which goes through middie. A
  // callback hook, so the context carries on through the rest of the request (the continuation of
  // an async hook would run outside it).
  const cls = app.get(ClsService);
  fastify.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const context = attachRequestContext(request.raw as RawRequest);
    cls.enter({ ifNested: 'override' });
    cls.set(CLS_ID, context.correlationId);
    cls.set(BASE_URL_KEY, context.requestBaseUrl);
    done();
  });

  const security = securityHeaders(config.production);
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const { correlationId } = attachRequestContext(request.raw as RawRequest);
    void reply.headers(security);
    void reply.header(CORRELATION_HEADER, correlationId);
    void reply.header(
      'content-security-policy',
      DOCS_PATH.test(request.url) ? DOCS_CSP : PREVIEW_PATH.test(request.url) ? PREVIEW_CSP : API_CSP,
    );
    if (closing) {
      void reply.header('connection', 'close');
      throw ApiError.serviceUnavailable(1, 'This instance is shutting down; retry.');
    }
    if (request.url.length > MAX_URL_LENGTH) throw new ApiError('URI_TOO_LONG');
    if (config.runMode === 'worker' && !OPERATIONS_PATHS.test(request.url)) {
      throw new ApiError('RESOURCE_NOT_FOUND', 'This instance runs with RUN_MODE=worker and serves no API.');
    }
  });
  fastify.addHook('preClose', async () => {
    closing = true;
  });
  fastify.addHook(
    'preSerialization',
    (
      _request: FastifyRequest,
      reply: FastifyReply,
      payload: unknown,
      done: (error: null, payload: unknown) => void,
    ) => {
      done(null, applyHttpResult(reply, payload));
    },
  );

  const requestLog = app.get<PinoInstance>(APP_LOGGER);
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (UNLOGGED_PATHS.has(request.url)) return;
    const { correlationId } = attachRequestContext(request.raw as RawRequest);
    requestLog.info(
      {
        correlationId,
        req: { method: request.method, url: redactUrl(request.url) },
        res: { statusCode: reply.statusCode },
        responseTime: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
  });

  if (config.http.corsOrigins.length) {
    void app.register(fastifyCors, {
      origin: config.http.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: CORS_ALLOWED_HEADERS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      maxAge: 600,
    });
  }

  const document = buildOpenApiDocument(app as INestApplication);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
