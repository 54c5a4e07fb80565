import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import { TextIdParam } from '../common/http/id-params';
import { UnreadSummaryDto } from './dto/live.dto';
import { ReadMarkersService } from './read-markers.service';

/** What belongs to one participant across conversations; a person reaches only their own (ConversationPolicy). */
@ApiTags('conversations')
@Access('service', 'admin', 'agent', 'customer')
@Controller('v1/participants')
export class ParticipantsController {
  constructor(private readonly live: ReadMarkersService) {}

  /** Unread messages of a participant per conversation (those with some), most recent activity first. */
  @Get(':participantId/unread')
  @ApiOkResponse({ type: UnreadSummaryDto })
  unread(@TextIdParam('participantId') participantId: string): Promise<UnreadSummaryDto> {
    return this.live.unread(participantId);
  }
}
