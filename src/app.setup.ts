import { INestApplication } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Logger as PinoLogger } from 'nestjs-pino';
import { attachRequestContext, CORRELATION_HEADER, RawRequest } from './common/correlation/correlation';
import { ApiError } from './common/errors/api-error';
import { AppConfig } from './config/app.config';
import { MetricsService } from './health/metrics.service';
import { buildOpenApiDocument } from './openapi';

/** Paths a `RUN_MODE=worker` process still serves: it has no API, only its probes and metrics. */
const OPERATIONS_PATHS = /^\/(health|health\/ready|metrics)(\?|$)/;

/**
 * Everything about the HTTP side that is not a route: the correlation id on every request and
 * response, error bodies for what Fastify rejects itself, metrics, and the Swagger UI.
 */
export function configureApp(app: NestFastifyApplication, config: AppConfig): void {
  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);

  app.useLogger(app.get(PinoLogger));
  app.enableShutdownHooks();

  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const { correlationId } = attachRequestContext(request.raw as RawRequest);
    void reply.header(CORRELATION_HEADER, correlationId);
    if (config.runMode === 'worker' && !OPERATIONS_PATHS.test(request.url)) {
      throw new ApiError('RESOURCE_NOT_FOUND', 'This instance runs with RUN_MODE=worker and serves no API.');
    }
  });
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  const document = buildOpenApiDocument(app as INestApplication);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
