import { Module } from '@nestjs/common';
import { MailEventRenderer } from './mail-event.renderer';
import { MailWriteBatcher } from './mail-write.batcher';
import { MailCommands } from './mail.commands';
import { MailFactory } from './mail.factory';
import { MailInserter } from './mail.inserter';
import { MailMapper } from './mail.mapper';
import { MailQueries } from './mail.queries';
import { MailWriter } from './mail.writer';
import { MailsController } from './mails.controller';
import { MailsService } from './mails.service';

/**
 * The API side of mails: what a mail is and how it is accepted, listed, cancelled, retried and
 * shown; the worker side that sends its deliveries is delivery/ (DeliveryModule).
 */
@Module({
  controllers: [MailsController],
  providers: [
    MailsService,
    MailQueries,
    MailCommands,
    MailInserter,
    MailFactory,
    MailMapper,
    MailWriteBatcher,
    MailWriter,
    MailEventRenderer,
  ],
  // Contacts and conversations (unread digests) create and cancel their mails in their own
  // transactions, and wake the worker, through MailWriter alone.
  exports: [MailWriter],
})
export class MailsModule {}
