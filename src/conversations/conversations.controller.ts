import { Body, Controller, Get, Headers, HttpStatus, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import { HttpResult } from '../common/http/http-result';
import { UuidParam } from '../common/http/id-params';
import { PageQueryDto } from '../common/pagination/page.dto';
import { ConversationsService, TaggedConversation } from './conversations.service';
import { ReadMarkerDto, TimelinePageDto, UpdateReadMarkerDto } from './dto/live.dto';
import { ReadMarkersService } from './read-markers.service';
import { AssignAgentDto } from './dto/assign-agent.dto';
import { ConversationDto, ConversationPageDto, MessageDto, MessagePageDto } from './dto/conversation.dto';
import { CreateConversationDto } from './dto/create-conversation.dto';
import { CreateMessageDto } from './dto/create-message.dto';
import { ListConversationsQueryDto } from './dto/list-conversations.query.dto';
import { ListMessagesQueryDto } from './dto/list-messages.query.dto';
import { ReplaceConversationDto } from './dto/replace-conversation.dto';
import { UpdateMessageStatusDto } from './dto/update-message-status.dto';
import { Idempotent } from '../common/idempotency/idempotent.decorator';

const ETAG_HEADER = { ETag: { description: 'Version of the conversation, for If-Match', schema: { type: 'string' } } };

/** People reach only their own conversations: ConversationPolicy narrows every look-up and list. */
@ApiTags('conversations')
@Access('service', 'admin', 'agent', 'customer')
@Controller('v1/conversations')
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly live: ReadMarkersService,
  ) {}

  /** Open a conversation; a `lastMessage` in the body is stored as its first message. */
  @Post()
  @Idempotent()
  @ApiCreatedResponse({ type: ConversationDto, headers: ETAG_HEADER })
  async create(@Body() dto: CreateConversationDto): Promise<HttpResult<ConversationDto>> {
    return withETag(await this.conversations.create(dto), HttpStatus.CREATED);
  }

  /** List conversations, most recent activity first, with filters. */
  @Get()
  list(@Query() query: ListConversationsQueryDto): Promise<ConversationPageDto> {
    return this.conversations.list(query);
  }

  /** Get a conversation with its last message; the `ETag` header is its version. */
  @Get(':conversationId')
  @ApiOkResponse({ type: ConversationDto, headers: ETAG_HEADER })
  async get(@UuidParam('conversationId') id: string): Promise<HttpResult<ConversationDto>> {
    return withETag(await this.conversations.findOne(id), HttpStatus.OK);
  }

  /**
   * Replace the writable fields of a conversation. With `If-Match`, only when it still has that
   * ETag (412 otherwise). Status moves: OPEN ⇄ CLOSED, OPEN or CLOSED → ARCHIVED; an archived
   * conversation can no longer change (409).
   */
  @Put(':conversationId')
  @ApiHeader({
    name: 'if-match',
    required: false,
    description: 'The ETag read before: the update applies only if nobody changed the conversation since.',
  })
  @ApiOkResponse({ type: ConversationDto, headers: ETAG_HEADER })
  async replace(
    @UuidParam('conversationId') id: string,
    @Body() dto: ReplaceConversationDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<HttpResult<ConversationDto>> {
    return withETag(await this.conversations.replace(id, dto, ifMatch), HttpStatus.OK);
  }

  /** Assign an agent to a conversation; the agent joins the participants (409 when archived). */
  @Patch(':conversationId/assigned-agent')
  @ApiOkResponse({ type: ConversationDto, headers: ETAG_HEADER })
  async assignAgent(
    @UuidParam('conversationId') id: string,
    @Body() dto: AssignAgentDto,
  ): Promise<HttpResult<ConversationDto>> {
    return withETag(await this.conversations.assignAgent(id, dto), HttpStatus.OK);
  }

  /** List the messages of a conversation, oldest first (`currentPage=0` is read as 1). */
  @Get(':conversationId/messages')
  listMessages(@UuidParam('conversationId') id: string, @Query() query: ListMessagesQueryDto): Promise<MessagePageDto> {
    return this.conversations.listMessages(id, query);
  }

  /**
   * Post a message: the transmitter must be a participant (403 otherwise), the conversation not
   * archived (409); a closed conversation is reopened.
   */
  @Post(':conversationId/messages')
  @Idempotent()
  postMessage(@UuidParam('conversationId') id: string, @Body() dto: CreateMessageDto): Promise<MessageDto> {
    return this.conversations.postMessage(id, dto);
  }

  /** Get a message of a conversation. */
  @Get(':conversationId/messages/:messageId')
  getMessage(@UuidParam('conversationId') id: string, @UuidParam('messageId') messageId: string): Promise<MessageDto> {
    return this.conversations.findMessage(id, messageId);
  }

  /** Move a message's status forward (SENT → DELIVERED → READ; 409 otherwise). */
  @Patch(':conversationId/messages/:messageId')
  updateMessageStatus(
    @UuidParam('conversationId') id: string,
    @UuidParam('messageId') messageId: string,
    @Body() dto: UpdateMessageStatusDto,
  ): Promise<MessageDto> {
    return this.conversations.updateMessageStatus(id, messageId, dto);
  }

  /**
   * Move a participant's read marker forward: every message up to that one addressed to them
   * becomes READ. An older message leaves the marker where it is (200, the marker as it stands).
   */
  @Put(':conversationId/read-marker')
  @ApiOkResponse({ type: ReadMarkerDto })
  updateReadMarker(@UuidParam('conversationId') id: string, @Body() dto: UpdateReadMarkerDto): Promise<ReadMarkerDto> {
    return this.live.updateMarker(id, dto);
  }

  /** Everything that happened to the conversation, oldest first, with who did it and the correlation id. */
  @Get(':conversationId/timeline')
  @ApiOkResponse({ type: TimelinePageDto })
  timeline(@UuidParam('conversationId') id: string, @Query() query: PageQueryDto): Promise<TimelinePageDto> {
    return this.live.timelinePage(id, query);
  }
}

function withETag({ conversation, etag }: TaggedConversation, status: number): HttpResult<ConversationDto> {
  return new HttpResult(conversation, status, { ETag: etag });
}
