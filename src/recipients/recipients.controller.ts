import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { HttpResult } from '../common/http/http-result';
import { TextIdParam } from '../common/http/id-params';
import { PutRecipientDto } from './dto/put-recipient.dto';
import { RecipientDto } from './dto/recipient.dto';
import { RecipientsService } from './recipients.service';

@ApiTags('recipients')
@Controller('v1/recipients')
export class RecipientsController {
  constructor(private readonly recipients: RecipientsService) {}

  /**
   * Create or replace a receiver in the recipient directory (201 when created, 200 when replaced).
   */
  @Put(':recipientId')
  @ApiCreatedResponse({ type: RecipientDto, description: 'Created.' })
  @ApiOkResponse({ type: RecipientDto, description: 'Replaced.' })
  async put(@TextIdParam('recipientId') id: string, @Body() dto: PutRecipientDto): Promise<HttpResult<RecipientDto>> {
    const { recipient, created } = await this.recipients.put(id, dto);
    return new HttpResult(recipient, created ? HttpStatus.CREATED : HttpStatus.OK);
  }

  /** Get a receiver of the recipient directory. */
  @Get(':recipientId')
  get(@TextIdParam('recipientId') id: string): Promise<RecipientDto> {
    return this.recipients.get(id);
  }

  /** Remove a receiver from the recipient directory; mails already sent are kept. */
  @Delete(':recipientId')
  @HttpCode(HttpStatus.NO_CONTENT)
  remove(@TextIdParam('recipientId') id: string): Promise<void> {
    return this.recipients.remove(id);
  }
}
