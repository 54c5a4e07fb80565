import { HttpStatus, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../common/errors/api-error';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { PageQueryDto } from '../common/pagination/page.dto';
import { AppConfig, InjectConfig } from '../config/app.config';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  ListWebhookDeliveriesQueryDto,
  UpdateWebhookDto,
  WebhookDeliveryPageDto,
  WebhookDto,
  WebhookPageDto,
} from './dto/webhook.dto';
import { WebhookHttpClient } from './webhook-http.client';
import { newSecret, sealSecret } from './webhook-signature';
import { TargetRefused } from './webhook-target';
import { WebhookMapper } from './webhook.mapper';
import { WebhookRepository } from './webhook.repository';

/** Webhook endpoints: registration (with the SSRF check of the target), the delivery log and redelivery. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly mapper: WebhookMapper,
    private readonly client: WebhookHttpClient,
    private readonly idempotency: IdempotencyService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The endpoint and the Idempotency-Key's answer in one transaction: a retried POST never registers a second one. */
  async create(dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    await this.assertTarget(dto.url);
    const secret = newSecret();
    const now = new Date();
    const endpoint = {
      id: randomUUID(),
      url: dto.url,
      events: [...new Set(dto.events)],
      description: dto.description ?? null,
      enabled: true,
      secret: sealSecret(secret, this.config.webhooks.secretKey),
      failingSince: null,
      disabledReason: null,
      createdAt: now,
      updatedAt: now,
    };
    const answer = { ...this.mapper.toDto(endpoint), secret };
    await this.webhooks.transaction(async (manager) => {
      await this.webhooks.insert(endpoint, manager);
      await this.idempotency.storeWithin(manager, HttpStatus.CREATED, answer);
    });
    return answer;
  }

  async list(query: PageQueryDto): Promise<WebhookPageDto> {
    const { rows, total } = await this.webhooks.findPage(query.currentPage, query.sizePage);
    return this.mapper.toPage(rows, total, query);
  }

  async get(id: string): Promise<WebhookDto> {
    const endpoint = await this.webhooks.findById(id);
    if (!endpoint) throw notFound(id);
    return this.mapper.toDto(endpoint);
  }

  async update(id: string, dto: UpdateWebhookDto): Promise<WebhookDto> {
    if (dto.url !== undefined) await this.assertTarget(dto.url);
    const endpoint = await this.webhooks.update(id, { ...dto, events: dto.events && [...new Set(dto.events)] });
    if (!endpoint) throw notFound(id);
    return this.mapper.toDto(endpoint);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.webhooks.delete(id))) throw notFound(id);
  }

  async deliveries(id: string, query: ListWebhookDeliveriesQueryDto): Promise<WebhookDeliveryPageDto> {
    if (!(await this.webhooks.findById(id))) throw notFound(id);
    const { rows, total } = await this.webhooks.findAttempts(id, query.status, query.currentPage, query.sizePage);
    return this.mapper.toDeliveryPage(id, rows, total, query);
  }

  /**
   * Queues the delivery again, and stores the Idempotency-Key's answer (a 202 without a body) in the
   * same transaction. A delivery in a call is left to it (nothing written), yet the answer is still
   * stored with the lookup that decided it, so a concurrent request with the key waits for it.
   */
  async redeliver(id: string, attemptId: string): Promise<void> {
    await this.webhooks.transaction(async (manager) => {
      if (!(await this.webhooks.redeliver(id, attemptId, manager)))
        throw ApiError.notFound(`Delivery ${attemptId} of webhook ${id}`);
      await this.idempotency.storeWithin(manager, HttpStatus.ACCEPTED, undefined);
    });
  }

  /** 400 for a target the service would refuse to call (scheme, loopback/private/link-local address). */
  private async assertTarget(url: string): Promise<void> {
    try {
      await this.client.check(url);
    } catch (error) {
      if (!(error instanceof TargetRefused)) throw error;
      throw ApiError.validation([{ field: 'url', value: url.slice(0, 200), location: 'body', issue: error.message }]);
    }
  }
}

const notFound = (id: string): ApiError => ApiError.notFound(`Webhook ${id}`);
