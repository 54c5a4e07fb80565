import { Module } from '@nestjs/common';
import { RecipientMapper } from './recipient.mapper';
import { RecipientRepository } from './recipient.repository';
import { RecipientsController } from './recipients.controller';
import { RecipientsService } from './recipients.service';
import { UserDirectoryClient } from './user-directory.client';

@Module({
  controllers: [RecipientsController],
  providers: [RecipientsService, RecipientRepository, RecipientMapper, UserDirectoryClient],
  exports: [RecipientsService],
})
export class RecipientsModule {}
