import { Module } from '@nestjs/common';
import { SmtpTransport } from './smtp.transport';
import { TemplateRenderer } from './template.renderer';

/** How mails leave: the SMTP transport and the templates. */
@Module({
  providers: [SmtpTransport, TemplateRenderer],
  exports: [SmtpTransport, TemplateRenderer],
})
export class DeliveryModule {}
