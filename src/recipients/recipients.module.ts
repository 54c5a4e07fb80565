import { Module } from '@nestjs/common';
import { RecipientMapper } from './recipient.mapper';
import { RecipientRepository } from './recipient.repository';
import { RecipientsController } from './recipients.controller';
import { RecipientsService } from './recipients.service';
import { SubscriptionMapper } from './subscription.mapper';
import { SubscriptionRepository } from './subscription.repository';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsService } from './subscriptions.service';
import { UnsubscribeController } from './unsubscribe.controller';
import { UserDirectoryClient } from './user-directory.client';

@Module({
  controllers: [RecipientsController, SubscriptionsController, UnsubscribeController],
  providers: [
    RecipientsService,
    RecipientRepository,
    RecipientMapper,
    UserDirectoryClient,
    SubscriptionRepository,
    SubscriptionMapper,
    SubscriptionsService,
  ],
  exports: [RecipientsService, SubscriptionRepository, SubscriptionsService],
})
export class RecipientsModule {}
