import { Body, Controller, Get, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConsumes, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../common/errors/api-error';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { HttpResult } from '../common/http/http-result';
import { UuidParam } from '../common/http/id-params';
import { InboundMessageDto, InboundMessagePageDto, ListInboundMessagesQueryDto } from './dto/inbound-message.dto';
import { InboundQueries } from './inbound.queries';
import { InboundService } from './inbound.service';

export const RFC822 = 'message/rfc822';

/** What Swagger UI pre-fills: an answer to an unknown address, recorded UNRECOGNISED. */
const EXAMPLE_MESSAGE = [
  'From: Camille Martin <camille.martin@example.com>',
  'To: contact@example.com',
  'Subject: Re: Votre voyage',
  'Message-ID: <example-1@example.com>',
  '',
  'Merci, à bientôt !',
  '',
].join('\r\n');

@ApiTags('inbound')
@Controller('v1/inbound/messages')
export class InboundController {
  constructor(
    private readonly inbound: InboundService,
    private readonly queries: InboundQueries,
  ) {}

  /**
   * Hand in a message received elsewhere (an MX or a provider's inbound webhook that uploads what
   * it receives), raw, as `message/rfc822`: it is classified and applied as if it had reached the
   * inbound SMTP listener. The same message again (same Message-ID) changes nothing and answers
   * 200 with the first one's record.
   */
  @Post()
  @Idempotent()
  @ApiConsumes(RFC822)
  @ApiBody({
    schema: { type: 'string', example: EXAMPLE_MESSAGE },
    description: 'The whole message, headers and body.',
  })
  @ApiAcceptedResponse({ type: InboundMessageDto, description: 'Received: what it became.' })
  @ApiOkResponse({ type: InboundMessageDto, description: 'Received before: the earlier record, nothing changed.' })
  async receive(@Body() raw: unknown): Promise<HttpResult<InboundMessageDto>> {
    // A JSON body (or none) is not a message: only message/rfc822 is read as bytes.
    if (!Buffer.isBuffer(raw) || raw.length === 0)
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `The body must be a whole message sent as ${RFC822}.`, [
        { field: 'Content-Type', location: 'header', issue: `must be ${RFC822}, with the message as the body` },
      ]);
    const { message, duplicate } = await this.inbound.receive(raw, null, 'HTTP');
    return new HttpResult(message, duplicate ? HttpStatus.OK : HttpStatus.ACCEPTED);
  }

  /** What came in, newest first, by kind. */
  @Get()
  list(@Query() query: ListInboundMessagesQueryDto): Promise<InboundMessagePageDto> {
    return this.queries.list(query);
  }

  /** One inbound message: what it was and what it became. */
  @Get(':inboundId')
  get(@UuidParam('inboundId') id: string): Promise<InboundMessageDto> {
    return this.queries.get(id);
  }
}
