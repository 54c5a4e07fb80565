import { Module } from '@nestjs/common';
import { QueueService } from './queue.service';
import { SmtpTransport } from './smtp.transport';
import { TemplateRenderer } from './template.renderer';

/** How mails leave: the durable queue, the SMTP transport and the templates. */
@Module({
  providers: [QueueService, SmtpTransport, TemplateRenderer],
  exports: [QueueService, SmtpTransport, TemplateRenderer],
})
export class DeliveryModule {}
