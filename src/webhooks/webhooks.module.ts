import { Module } from '@nestjs/common';
import { WebhookCallHandler } from './webhook-call.handler';
import { WebhookHttpClient } from './webhook-http.client';
import { WebhookMapper } from './webhook.mapper';
import { WebhookRepository } from './webhook.repository';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/**
 * Webhook endpoints and their calls; deliveries are queued by the outbox trigger (migration
 * 1764000005000). The data of mail events is rendered by mails/ through common's EventViews.
 */
@Module({
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookRepository, WebhookMapper, WebhookHttpClient, WebhookCallHandler],
})
export class WebhooksModule {}
