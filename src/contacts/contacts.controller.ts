import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiTags } from '@nestjs/swagger';
import { UuidParam } from '../common/http/id-params';
import { PageOfThreeQueryDto } from '../common/pagination/page.dto';
import { ContactsService } from './contacts.service';
import { ContactDto, ContactPageDto } from './dto/contact.dto';
import { CreateContactDto } from './dto/create-contact.dto';

@ApiTags('contacts')
@Controller('v1/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  /**
   * Write to the support team. Without `conversationId` the message opens a thread (forwarded to
   * the support inbox and acknowledged to the writer); with it, it is a reply sent to the other
   * addresses of the thread. Answers 201 with the message and a `Location` header.
   */
  @Post()
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key and body within 24 h: the first answer is replayed and nothing is created again.' })
  create(@Body() dto: CreateContactDto): Promise<ContactDto> {
    return this.contacts.create(dto);
  }

  /** Get a contact message. */
  @Get(':contactId')
  get(@UuidParam('contactId') id: string): Promise<ContactDto> {
    return this.contacts.findOne(id);
  }

  /** A page of every message of the thread this message belongs to, oldest first. */
  @Get(':contactId/messages')
  thread(@UuidParam('contactId') id: string, @Query() query: PageOfThreeQueryDto): Promise<ContactPageDto> {
    return this.contacts.thread(id, query);
  }
}
