import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access, QueryToken } from '../auth/access.decorator';
import { TextIdParam, UuidParam } from '../common/http/id-params';
import { EventStreamHub } from '../events/event-stream.hub';
import { ReadMarkersService } from './read-markers.service';

const LAST_EVENT_ID = {
  name: 'Last-Event-ID',
  required: false,
  description:
    'Id of the last event received: what came after it (kept 24 h) is sent first. Browsers send it when they reconnect.',
};
const ACCESS_TOKEN = {
  name: 'access_token',
  required: false,
  description: 'The token, for clients that cannot send headers (a browser EventSource). Never logged.',
};
const STREAM = {
  description:
    'Server-Sent Events: `message.created`, `message.updated`, `conversation.updated`, `read-marker.updated`, each with its `id`, its `event` name and the resource (with links) as `data`; a comment line every 25 s. A client too slow to read is disconnected and reconnects with Last-Event-ID.',
  content: {
    'text/event-stream': {
      schema: {
        type: 'string',
        example: 'id: 42\nevent: message.created\ndata: {"id":"…","conversationId":"…","content":"Bonjour"}\n\n',
      },
    },
  },
};

/** The live streams; who may open one is decided by the same policy as reading the resource. */
@ApiTags('conversations')
@Access('service', 'admin', 'agent', 'customer')
@Controller('v1')
export class LiveEventsController {
  constructor(
    private readonly live: ReadMarkersService,
    private readonly hub: EventStreamHub,
  ) {}

  /** Live events of a conversation. */
  @Get('conversations/:conversationId/events')
  @QueryToken()
  @ApiProduces('text/event-stream')
  @ApiHeader(LAST_EVENT_ID)
  @ApiQuery(ACCESS_TOKEN)
  @ApiOkResponse(STREAM)
  async conversationEvents(
    @UuidParam('conversationId') id: string,
    @Res() reply: FastifyReply,
    @Headers('last-event-id') lastEventId?: string,
  ): Promise<void> {
    await this.live.assertSeesConversation(id);
    await this.hub.serve(reply, { conversationId: id }, lastEventId);
  }

  /** Live events of every conversation of a participant (an inbox, a badge). */
  @Get('participants/:participantId/events')
  @QueryToken()
  @ApiProduces('text/event-stream')
  @ApiHeader(LAST_EVENT_ID)
  @ApiQuery(ACCESS_TOKEN)
  @ApiOkResponse(STREAM)
  async participantEvents(
    @TextIdParam('participantId') participantId: string,
    @Res() reply: FastifyReply,
    @Headers('last-event-id') lastEventId?: string,
  ): Promise<void> {
    this.live.assertSeesParticipant(participantId);
    await this.hub.serve(reply, { participantId }, lastEventId);
  }
}
