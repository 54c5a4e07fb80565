import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiTags } from '@nestjs/swagger';
import { UuidParam } from '../common/http/id-params';
import { CreateMailDto } from './dto/create-mail.dto';
import { ListMailsQueryDto } from './dto/list-mails.query.dto';
import { MailDto, MailPageDto } from './dto/mail.dto';
import { MailsService } from './mails.service';

@ApiTags('mails')
@Controller('v1/mails')
export class MailsController {
  constructor(private readonly mails: MailsService) {}

  /**
   * Accept a mail event: it is stored and queued, then delivered asynchronously to each receiver.
   * Answers 202 with the mail and a `Location` header.
   */
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key and body within 24 h: the first answer is replayed and nothing is created again.' })
  create(@Body() dto: CreateMailDto): Promise<MailDto> {
    return this.mails.create(dto);
  }

  /** List mails, newest first, with filters. */
  @Get()
  list(@Query() query: ListMailsQueryDto): Promise<MailPageDto> {
    return this.mails.list(query);
  }

  /** Get a mail with its per-receiver deliveries. */
  @Get(':mailId')
  get(@UuidParam('mailId') id: string): Promise<MailDto> {
    return this.mails.findOne(id);
  }
}
