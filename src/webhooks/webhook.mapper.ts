import { Injectable } from '@nestjs/common';
import { LinksBuilder } from '../common/links/links.builder';
import { PageQueryDto } from '../common/pagination/page.dto';
import {
  ListWebhookDeliveriesQueryDto,
  WebhookDeliveryDto,
  WebhookDeliveryPageDto,
  WebhookDto,
  WebhookPageDto,
} from './dto/webhook.dto';
import { WebhookAttemptRow, WebhookEndpoint } from './webhook.repository';
import { webhookId } from './webhook-signature';

@Injectable()
export class WebhookMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(endpoint: WebhookEndpoint): WebhookDto {
    const path = `/v1/webhooks/${endpoint.id}`;
    return {
      id: endpoint.id,
      url: endpoint.url,
      events: endpoint.events,
      description: endpoint.description,
      enabled: endpoint.enabled,
      disabledReason: endpoint.disabledReason,
      failingSince: endpoint.failingSince?.toISOString() ?? null,
      createdAt: endpoint.createdAt.toISOString(),
      updatedAt: endpoint.updatedAt.toISOString(),
      links: [
        this.links.link('self', 'GET', path, 'Get this webhook endpoint'),
        this.links.link('update', 'PATCH', path, 'Change the URL, the events or whether it is enabled'),
        this.links.link('deliveries', 'GET', `${path}/deliveries`, 'Every call made to this endpoint'),
        this.links.link('delete', 'DELETE', path, 'Delete this webhook endpoint'),
      ],
    };
  }

  toPage(rows: WebhookEndpoint[], total: number, query: PageQueryDto): WebhookPageDto {
    return this.links.page(
      '/v1/webhooks',
      rows.map((row) => this.toDto(row)),
      total,
      query.currentPage,
      query.sizePage,
    );
  }

  toDeliveryPage(
    endpointId: string,
    rows: WebhookAttemptRow[],
    total: number,
    query: ListWebhookDeliveriesQueryDto,
  ): WebhookDeliveryPageDto {
    const path = `/v1/webhooks/${endpointId}/deliveries`;
    const content = rows.map((row): WebhookDeliveryDto => ({
      id: row.id,
      webhookId: webhookId(row.eventId),
      type: row.type,
      attempt: row.attempt,
      status: row.status as WebhookDeliveryDto['status'],
      responseStatus: row.responseStatus,
      durationMs: row.durationMs,
      responseExcerpt: row.responseExcerpt,
      attemptedAt: row.attemptedAt.toISOString(),
      links: [
        this.links.link('redeliver', 'POST', `${path}/${row.id}/redeliver`, 'Send this event again (same webhook-id)'),
      ],
    }));
    return this.links.page(path, content, total, query.currentPage, query.sizePage, { status: query.status });
  }
}
