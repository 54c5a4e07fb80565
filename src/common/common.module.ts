import { Global, Module, Provider } from '@nestjs/common';
import { ClsService, ClsServiceManager } from 'nestjs-cls';
import { EventViews } from './events/event-views';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { IdempotencyService } from './idempotency/idempotency.service';
import { LinksBuilder } from './links/links.builder';
import { MetricsService } from './metrics/metrics.service';

/**
 * The request context (correlation id, caller, base URL of links): nestjs-cls's service alone.
 * Each request enters it in a Fastify hook (app.setup.ts). `ClsModule.forRoot` is not imported: it
 * always adds a global pass-through guard and interceptor, and one global interceptor sends every
 * request through rxjs and an `AsyncResource.bind` (a fifth of `GET /health`'s CPU, issue 9).
 */
const CLS: Provider = { provide: ClsService, useValue: ClsServiceManager.getClsService() };

/** Cross-cutting pieces every feature module uses. */
@Global()
@Module({
  // MetricsService: every side counts (the API, the workers); /metrics (health/) serves them.
  providers: [CLS, LinksBuilder, IdempotencyRepository, IdempotencyService, EventViews, MetricsService],
  exports: [CLS, LinksBuilder, IdempotencyRepository, IdempotencyService, EventViews, MetricsService],
})
export class CommonModule {}
