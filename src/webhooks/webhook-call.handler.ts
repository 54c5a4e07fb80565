import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EventViews } from '../common/events/event-views';
import { AppConfig, InjectConfig } from '../config/app.config';
import { QueueHandler } from '../queue/queue-handler';
import { Queues } from '../queue/queues';
import { ClaimedWebhook, claimDueWebhookCalls } from './sql/claim-due-webhook-calls';
import { settleWebhookCalls, WebhookOutcome } from './sql/settle-webhook-calls';
import { CallResult, WebhookHttpClient } from './webhook-http.client';
import { nextWebhookAttempt } from './webhook-retry';
import { openSecret, signedHeaders, webhookId } from './webhook-signature';

/**
 * The queue of webhook calls. A trigger on `webhook_delivery` (migration QueueNudges1765000090000)
 * notifies its channel, `queue_webhook_calls`, when the outbox queues calls.
 */
export const WEBHOOK_CALLS = 'webhook_calls';

/** A call's lease: longer than the call may last (WEBHOOK_TIMEOUT_SECONDS, at most 60), so a live worker never loses its claim. */
const MIN_LEASE_SECONDS = 60;

/** A claimed call with its JSON body. */
interface WebhookCall extends ClaimedWebhook {
  body: string;
}

/**
 * Calls webhook endpoints, as a handler of the lease runner (src/queue): claims due deliveries (the
 * durable queue in Postgres, written by the outbox trigger), renders and signs each body, POSTs it,
 * and returns the outcome the runner settles in batches. At most WEBHOOK_CONCURRENCY calls in
 * flight, at most WEBHOOK_ENDPOINT_CONCURRENCY of them to one endpoint, each bounded by
 * WEBHOOK_TIMEOUT_SECONDS: a slow or dead endpoint holds a few slots of this worker and nothing of
 * the mail pipeline. Runs in RUN_MODE=worker and all.
 */
@Injectable()
export class WebhookCallHandler implements QueueHandler<WebhookCall, WebhookOutcome>, OnModuleInit {
  readonly name = WEBHOOK_CALLS;
  private readonly logger = new Logger(WebhookCallHandler.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: Queues,
    private readonly client: WebhookHttpClient,
    private readonly views: EventViews,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { concurrency, timeoutSeconds } = this.config.webhooks;
    const leaseSeconds = Math.max(MIN_LEASE_SECONDS, 2 * timeoutSeconds);
    this.queues.register(this, {
      concurrency,
      leaseSeconds,
      pollMs: this.config.delivery.pollingIntervalSeconds * 1000,
    });
  }

  /** Endpoints already at their share of the calls in hand are left out of the claim. */
  async claim(limit: number, leaseSeconds: number, running: readonly WebhookCall[]): Promise<WebhookCall[]> {
    const claimed = await claimDueWebhookCalls(
      this.dataSource,
      limit,
      this.config.webhooks.perEndpointConcurrency,
      this.busyEndpoints(running),
      leaseSeconds,
    );
    if (!claimed.length) return [];
    const bodies = await this.render(claimed);
    return claimed.map((call) => ({ ...call, body: bodies.get(call.id)! }));
  }

  /** Endpoints were left out: a call that ends frees a slot of theirs. */
  heldBack(running: readonly WebhookCall[]): boolean {
    return this.busyEndpoints(running).length > 0;
  }

  async handle(call: WebhookCall): Promise<WebhookOutcome> {
    const attemptedAt = new Date();
    let result: CallResult;
    try {
      const secret = openSecret(call.secret, this.config.webhooks.secretKey);
      const headers = signedHeaders(
        secret,
        webhookId(call.eventId),
        Math.floor(attemptedAt.getTime() / 1000),
        call.body,
      );
      if (call.correlationId) headers['x-correlation-id'] = call.correlationId;
      result = await this.client.post(call.url, call.body, headers);
    } catch (error) {
      this.logger.error({ err: error, webhookDeliveryId: call.id }, 'Webhook call failed inside the service');
      result = {
        ok: false,
        status: null,
        excerpt: 'The call failed inside the service.',
        durationMs: Date.now() - attemptedAt.getTime(),
      };
    }
    const { retryScheduleSeconds, maxAgeHours } = this.config.webhooks;
    const retryAt = result.ok
      ? null
      : nextWebhookAttempt(retryScheduleSeconds, call.attempt, call.retryFrom, maxAgeHours, new Date());
    return {
      id: call.id,
      attempt: call.attempt,
      succeeded: result.ok,
      status: result.ok ? 'SUCCEEDED' : retryAt ? 'PENDING' : 'FAILED',
      dueAt: retryAt,
      responseStatus: result.status,
      durationMs: result.durationMs,
      responseExcerpt: result.excerpt,
      attemptedAt,
    };
  }

  async settle(outcomes: WebhookOutcome[]): Promise<void[]> {
    await settleWebhookCalls(this.dataSource, outcomes, this.config.webhooks.maxAgeHours);
    return [];
  }

  private busyEndpoints(running: readonly WebhookCall[]): string[] {
    const perEndpoint = new Map<string, number>();
    for (const call of running) perEndpoint.set(call.endpointId, (perEndpoint.get(call.endpointId) ?? 0) + 1);
    return [...perEndpoint].filter(([, n]) => n >= this.config.webhooks.perEndpointConcurrency).map(([id]) => id);
  }

  /**
   * The JSON bodies `{type, timestamp, data}`. Events that hold ids only (mail events) get the
   * resource as the API shows it now, rendered by its module (EventViews; one query per claim).
   */
  private async render(claimed: ClaimedWebhook[]): Promise<Map<string, string>> {
    const data = await this.views.render(claimed);
    return new Map(
      claimed.map((call, index) => [
        call.id,
        JSON.stringify({ type: call.type, timestamp: call.eventAt.toISOString(), data: data[index] }),
      ]),
    );
  }
}
