import { Module } from '@nestjs/common';
import { MailsModule } from '../mails/mails.module';
import { ContactMapper } from './contact.mapper';
import { ContactPolicy } from './contact.policy';
import { ContactRepository } from './contact.repository';
import { ContactsController } from './contacts.controller';
import { ContactsService } from './contacts.service';

@Module({
  // Contact mails are mails of the one pipeline, written in the transaction of their message.
  imports: [MailsModule],
  controllers: [ContactsController],
  providers: [ContactsService, ContactRepository, ContactMapper, ContactPolicy],
  // Replies that come back by mail are posted through it (src/inbound).
  exports: [ContactsService],
})
export class ContactsModule {}
