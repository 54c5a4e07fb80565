import { Body, Controller, Get, Ip, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { Access, Public } from '../auth/access.decorator';
import { ErrorBodyDto } from '../common/errors/error-body.dto';
import { UuidParam } from '../common/http/id-params';
import { PageOfThreeQueryDto } from '../common/pagination/page.dto';
import { ContactsService } from './contacts.service';
import { ContactDto, ContactPageDto } from './dto/contact.dto';
import { CreateContactDto } from './dto/create-contact.dto';
import { Idempotent } from '../common/idempotency/idempotent.decorator';

@ApiTags('contacts')
@Controller('v1/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  /**
   * Write to the support team. Without `conversationId` the message opens a thread (forwarded to
   * the support inbox and acknowledged to the writer). With it, it is a reply by the thread's
   * transmitter (sent to the support inbox) or by support's tools, a service or an admin (sent to
   * the thread's opener); the reply's `mail` receives nothing. Answers 201 with the message and a
   * `Location` header. Opening a thread is open to anyone; every message but support's counts
   * against a limit per thread address and per client address (429 beyond).
   */
  @Post()
  @Idempotent()
  @Public()
  @ApiNotFoundResponse({
    description:
      '`RESOURCE_NOT_FOUND`: a reply in an unknown thread, or in a thread the caller is not part of (anonymous, another person).',
    type: ErrorBodyDto,
    headers: { 'X-Correlation-ID': { $ref: '#/components/headers/X-Correlation-ID' } },
  })
  create(@Body() dto: CreateContactDto, @Ip() clientAddress: string): Promise<ContactDto> {
    return this.contacts.create(dto, clientAddress);
  }

  /** Get a contact message (services, admins, and the person who opened its thread). */
  @Get(':contactId')
  @Access('service', 'admin', 'customer', 'agent')
  get(@UuidParam('contactId') id: string): Promise<ContactDto> {
    return this.contacts.findOne(id);
  }

  /** A page of every message of the thread this message belongs to, oldest first (same access as the message). */
  @Get(':contactId/messages')
  @Access('service', 'admin', 'customer', 'agent')
  thread(@UuidParam('contactId') id: string, @Query() query: PageOfThreeQueryDto): Promise<ContactPageDto> {
    return this.contacts.thread(id, query);
  }
}
