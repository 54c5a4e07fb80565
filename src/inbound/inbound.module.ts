import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { ConversationsModule } from '../conversations/conversations.module';
import { MailsModule } from '../mails/mails.module';
import { RecipientsModule } from '../recipients/recipients.module';
import { InboundSmtpListener } from './inbound-smtp.listener';
import { InboundController } from './inbound.controller';
import { InboundMapper } from './inbound.mapper';
import { InboundQueries } from './inbound.queries';
import { InboundRepository } from './inbound.repository';
import { InboundService } from './inbound.service';

/** Mail that comes back: bounces, complaints and replies (contract A2), and mailto unsubscribes (A3). */
@Module({
  imports: [ContactsModule, ConversationsModule, MailsModule, RecipientsModule],
  controllers: [InboundController],
  providers: [InboundService, InboundQueries, InboundRepository, InboundMapper, InboundSmtpListener],
  exports: [InboundSmtpListener],
})
export class InboundModule {}
