import { Module } from '@nestjs/common';
import { RecipientsModule } from '../recipients/recipients.module';
import { SuppressionsModule } from '../suppressions/suppressions.module';
import { MailDeliveryWorker } from './mail-delivery.worker';
import { SmtpTransport } from './smtp.transport';
import { TemplateRenderer } from './template.renderer';

/**
 * The worker side of the mail pipeline: the delivery worker (a handler of the lease runner), its
 * claim and settle statements (sql/), the retry policy, the template renderer and the SMTP
 * transport. It works the rows mails/ writes; mails/ never imports it.
 */
@Module({
  imports: [RecipientsModule, SuppressionsModule],
  // RecipientsModule: receivers, and their consent rows (SubscriptionRepository, contract A3).
  providers: [SmtpTransport, TemplateRenderer, MailDeliveryWorker],
  // Templates preview with the renderer, health probes the relay through the transport.
  exports: [SmtpTransport, TemplateRenderer, MailDeliveryWorker],
})
export class DeliveryModule {}
