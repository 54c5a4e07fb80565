import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import { ErrorBodyDto } from '../common/errors/error-body.dto';
import { TextIdParam } from '../common/http/id-params';
import { PutSubscriptionDto, SubscriptionsDto } from './dto/subscriptions.dto';
import { SubscriptionsService } from './subscriptions.service';

@ApiTags('recipients')
@Controller('v1/recipients')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  /**
   * A receiver's email preference for every `SUBSCRIPTION` category (without a change, subscribed).
   * Services, admins, and the person whose `sub` is the recipient id (another person's is a 404).
   */
  @Get(':recipientId/subscriptions')
  @Access('service', 'admin', 'customer', 'agent')
  get(@TextIdParam('recipientId') id: string): Promise<SubscriptionsDto> {
    return this.subscriptions.view(id);
  }

  /**
   * Subscribe a receiver to a `SUBSCRIPTION` category by email, or unsubscribe them (source `API`);
   * answers the receiver's preferences. Unsubscribing is effective for every mail not yet sent and
   * writes the event `recipient.unsubscribed`; setting what already is changes nothing.
   */
  @Put(':recipientId/subscriptions/:category')
  @Access('service', 'admin', 'customer', 'agent')
  @ApiBadRequestResponse({
    description:
      '`VALIDATION_ERROR`: a `TRANSACTIONAL` category (it cannot be refused) or an unknown one (`category`).',
    type: ErrorBodyDto,
    headers: { 'X-Correlation-ID': { $ref: '#/components/headers/X-Correlation-ID' } },
  })
  put(
    @TextIdParam('recipientId') id: string,
    @Param('category') category: string,
    @Body() dto: PutSubscriptionDto,
  ): Promise<SubscriptionsDto> {
    return this.subscriptions.put(id, category, dto);
  }
}
