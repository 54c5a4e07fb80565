import { Module } from '@nestjs/common';
import { ConversationMapper } from './conversation.mapper';
import { ConversationPolicy } from './conversation.policy';
import { ConversationRepository } from './conversation.repository';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';

@Module({
  controllers: [ConversationsController],
  providers: [ConversationsService, ConversationRepository, ConversationMapper, ConversationPolicy],
})
export class ConversationsModule {}
