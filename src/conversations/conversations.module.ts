import { Module } from '@nestjs/common';
import { MailsModule } from '../mails/mails.module';
import { ConversationMapper } from './conversation.mapper';
import { ConversationPolicy } from './conversation.policy';
import { ConversationRepository } from './conversation.repository';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';
import { LiveEventsController } from './live-events.controller';
import { ParticipantsController } from './participants.controller';
import { ReadMarkerRepository } from './read-marker.repository';
import { ReadMarkersService } from './read-markers.service';
import { TimelineRepository } from './timeline.repository';
import { UnreadDigestScheduler } from './unread-digest.scheduler';

@Module({
  imports: [MailsModule],
  controllers: [ConversationsController, ParticipantsController, LiveEventsController],
  providers: [
    ConversationsService,
    ConversationRepository,
    ConversationMapper,
    ConversationPolicy,
    ReadMarkersService,
    ReadMarkerRepository,
    TimelineRepository,
    UnreadDigestScheduler,
  ],
  exports: [ConversationPolicy, ConversationRepository, ConversationsService],
})
export class ConversationsModule {}
