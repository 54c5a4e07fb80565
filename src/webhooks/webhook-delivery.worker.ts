import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../config/app.config';
import { MailsService } from '../mails/mails.service';
import { CallResult, WebhookHttpClient } from './webhook-http.client';
import { nextWebhookAttempt } from './webhook-retry';
import { openSecret, signedHeaders, webhookId } from './webhook-signature';
import { ClaimedWebhook, WebhookOutcome, WebhookRepository } from './webhook.repository';

/** A call's lease: far longer than the call may last, so a live worker never loses its claim. */
const LEASE_SECONDS = 60;
const MAX_SETTLE_BATCH = 500;
const SHUTDOWN_MARGIN_MS = 2_000;

/**
 * Calls webhook endpoints: claims due deliveries (the durable queue in Postgres, written by the
 * outbox trigger), renders and signs each body, POSTs it, and records the outcomes in batches.
 * At most WEBHOOK_CONCURRENCY calls in flight, at most WEBHOOK_ENDPOINT_CONCURRENCY of them to one
 * endpoint, each bounded by WEBHOOK_TIMEOUT_SECONDS: a slow or dead endpoint holds a few slots of
 * this worker and nothing of the mail pipeline. Runs in RUN_MODE=worker and all.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private readonly inFlight = new Set<Promise<void>>();
  private readonly perEndpoint = new Map<string, number>();
  private readonly outcomes: WebhookOutcome[] = [];
  private flushing: Promise<void> | null = null;
  private loop?: Promise<void>;
  private stopping = false;
  private wake?: () => void;

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly client: WebhookHttpClient,
    private readonly mails: MailsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.runMode === 'api') return;
    this.loop = this.run();
  }

  /** SIGTERM: no new calls; the calls in hand get the grace period, their outcomes are written. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.wake?.();
    await this.loop;
    const grace = Math.max(1_000, this.config.delivery.shutdownGraceSeconds * 1000 - SHUTDOWN_MARGIN_MS);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, grace)))]);
    clearTimeout(timer);
    await this.flushing;
  }

  private async run(): Promise<void> {
    const { concurrency, perEndpointConcurrency } = this.config.webhooks;
    while (!this.stopping) {
      const free = concurrency - this.inFlight.size;
      if (free <= 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      const busy = [...this.perEndpoint].filter(([, n]) => n >= perEndpointConcurrency).map(([id]) => id);
      let claimed: ClaimedWebhook[] = [];
      try {
        claimed = await this.webhooks.claimDue(free, perEndpointConcurrency, busy, LEASE_SECONDS);
        if (claimed.length) await this.start(claimed);
      } catch (error) {
        this.logger.warn({ err: error }, 'Could not claim webhook deliveries; trying again shortly');
      }
      if (claimed.length < free && !this.stopping) await this.idle(this.config.delivery.pollingIntervalSeconds * 1000);
    }
  }

  private async start(claimed: ClaimedWebhook[]): Promise<void> {
    const bodies = await this.render(claimed);
    for (const delivery of claimed) {
      this.perEndpoint.set(delivery.endpointId, (this.perEndpoint.get(delivery.endpointId) ?? 0) + 1);
      const running: Promise<void> = this.call(delivery, bodies.get(delivery.id)!).finally(() => {
        this.inFlight.delete(running);
        const left = (this.perEndpoint.get(delivery.endpointId) ?? 1) - 1;
        if (left > 0) this.perEndpoint.set(delivery.endpointId, left);
        else this.perEndpoint.delete(delivery.endpointId);
      });
      this.inFlight.add(running);
    }
  }

  /**
   * The JSON bodies `{type, timestamp, data}`. Events of mails hold ids only: their `data` is the
   * mail as GET /v1/mails/{id} shows it now (one query for the whole claim), or for a
   * `mail.delivery.*` event, that receiver's delivery with its `mailId`.
   */
  private async render(claimed: ClaimedWebhook[]): Promise<Map<string, string>> {
    const mailIds = [...new Set(claimed.filter((d) => d.type.startsWith('mail.')).map((d) => (d.data as { mailId: string }).mailId))];
    const mails = mailIds.length ? await this.mails.findViews(mailIds) : new Map();
    const bodies = new Map<string, string>();
    for (const delivery of claimed) {
      let data = delivery.data;
      if (delivery.type.startsWith('mail.')) {
        const ref = delivery.data as { mailId: string; receiverId?: string };
        const mail = mails.get(ref.mailId);
        if (mail && ref.receiverId === undefined) data = mail;
        else if (mail) data = { ...mail.deliveries.find((d: { receiverId: string }) => d.receiverId === ref.receiverId), mailId: ref.mailId };
      }
      bodies.set(delivery.id, JSON.stringify({ type: delivery.type, timestamp: delivery.eventAt.toISOString(), data }));
    }
    return bodies;
  }

  private async call(delivery: ClaimedWebhook, body: string): Promise<void> {
    const attemptedAt = new Date();
    let result: CallResult;
    try {
      const secret = openSecret(delivery.secret, this.config.webhooks.secretKey);
      const headers = signedHeaders(secret, webhookId(delivery.eventId), Math.floor(attemptedAt.getTime() / 1000), body);
      if (delivery.correlationId) headers['x-correlation-id'] = delivery.correlationId;
      result = await this.client.post(delivery.url, body, headers);
    } catch (error) {
      this.logger.error({ err: error, webhookDeliveryId: delivery.id }, 'Webhook call failed inside the service');
      result = { ok: false, status: null, excerpt: 'The call failed inside the service.', durationMs: Date.now() - attemptedAt.getTime() };
    }
    const { retryScheduleSeconds, maxAgeHours } = this.config.webhooks;
    const retryAt = result.ok ? null : nextWebhookAttempt(retryScheduleSeconds, delivery.attempt, delivery.retryFrom, maxAgeHours, new Date());
    this.record({
      id: delivery.id,
      attempt: delivery.attempt,
      succeeded: result.ok,
      status: result.ok ? 'SUCCEEDED' : retryAt ? 'PENDING' : 'FAILED',
      dueAt: retryAt,
      responseStatus: result.status,
      durationMs: result.durationMs,
      responseExcerpt: result.excerpt,
      attemptedAt,
    });
  }

  /** Outcomes are written together (those that finish during a write go in the next), retried until they land. */
  private record(outcome: WebhookOutcome): void {
    this.outcomes.push(outcome);
    this.flushing ??= this.flush().finally(() => (this.flushing = null));
  }

  private async flush(): Promise<void> {
    while (this.outcomes.length) {
      const batch = this.outcomes.splice(0, MAX_SETTLE_BATCH);
      for (let failures = 0; ; failures++) {
        try {
          await this.webhooks.settle(batch, this.config.webhooks.maxAgeHours);
          break;
        } catch (error) {
          // Given up only at exit: the leases then bring these calls back (same webhook-id).
          if (this.stopping && failures >= 3) {
            this.logger.error({ err: error, calls: batch.length }, 'Could not record webhook outcomes before exit; they will be called again');
            break;
          }
          this.logger.warn({ err: error, calls: batch.length }, 'Could not record webhook outcomes; retrying');
          await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** failures)));
        }
      }
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
