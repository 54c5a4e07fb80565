import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { UuidParam } from '../common/http/id-params';
import { PageQueryDto } from '../common/pagination/page.dto';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  ListWebhookDeliveriesQueryDto,
  UpdateWebhookDto,
  WebhookDeliveryPageDto,
  WebhookDto,
  WebhookPageDto,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';
import { Idempotent } from '../common/idempotency/idempotent.decorator';

@ApiTags('webhooks')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /**
   * Register an endpoint: the events it names are POSTed to it, signed as Standard Webhooks do.
   * The answer holds the signing `secret`, shown this once.
   */
  @Post()
  @Idempotent()
  create(@Body() dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    return this.webhooks.create(dto);
  }

  /** The registered endpoints, newest first. */
  @Get()
  list(@Query() query: PageQueryDto): Promise<WebhookPageDto> {
    return this.webhooks.list(query);
  }

  /** One endpoint (without its secret, shown only when it was registered). */
  @Get(':webhookId')
  get(@UuidParam('webhookId') id: string): Promise<WebhookDto> {
    return this.webhooks.get(id);
  }

  /** Change the URL (checked again), the events, or enable/disable the endpoint. */
  @Patch(':webhookId')
  update(@UuidParam('webhookId') id: string, @Body() dto: UpdateWebhookDto): Promise<WebhookDto> {
    return this.webhooks.update(id, dto);
  }

  /** Delete the endpoint; its queued calls are dropped. */
  @Delete(':webhookId')
  @HttpCode(HttpStatus.NO_CONTENT)
  remove(@UuidParam('webhookId') id: string): Promise<void> {
    return this.webhooks.remove(id);
  }

  /** Every call made to the endpoint, newest first. */
  @Get(':webhookId/deliveries')
  deliveries(
    @UuidParam('webhookId') id: string,
    @Query() query: ListWebhookDeliveriesQueryDto,
  ): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.deliveries(id, query);
  }

  /** Send the event of this delivery again, now, with the same `webhook-id`. */
  @Post(':webhookId/deliveries/:deliveryId/redeliver')
  @Idempotent()
  @HttpCode(HttpStatus.ACCEPTED)
  redeliver(@UuidParam('webhookId') id: string, @UuidParam('deliveryId') deliveryId: string): Promise<void> {
    return this.webhooks.redeliver(id, deliveryId);
  }
}
