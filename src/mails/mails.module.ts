import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { RecipientsModule } from '../recipients/recipients.module';
import { SuppressionsModule } from '../suppressions/suppressions.module';
import { MailDeliveryWorker } from './mail-delivery.worker';
import { MailWriteBatcher } from './mail-write.batcher';
import { MailFactory } from './mail.factory';
import { MailMapper } from './mail.mapper';
import { MailRepository } from './mail.repository';
import { MailsController } from './mails.controller';
import { MailsService } from './mails.service';

@Module({
  imports: [DeliveryModule, RecipientsModule, SuppressionsModule],
  controllers: [MailsController],
  providers: [MailsService, MailRepository, MailFactory, MailMapper, MailDeliveryWorker, MailWriteBatcher],
  // Webhooks render mails as the API shows them; conversations (unread digests) and contacts write
  // their mails in their own transactions, and wake the worker.
  exports: [MailsService, MailRepository, MailFactory, MailDeliveryWorker],
})
export class MailsModule {}
