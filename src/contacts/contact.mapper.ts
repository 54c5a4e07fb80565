import { Injectable } from '@nestjs/common';
import { LinksBuilder } from '../common/links/links.builder';
import { PageQueryDto } from '../common/pagination/page.dto';
import { ContactMessageEntity } from './contact-message.entity';
import { ContactDto, ContactPageDto } from './dto/contact.dto';

/** Turns contact messages into their responses; the only place that adds their links. */
@Injectable()
export class ContactMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(message: ContactMessageEntity): ContactDto {
    return {
      id: message.id,
      conversationId: message.conversationId,
      sendingDate: message.sendingDate.toISOString(),
      receiverId: message.receiverId,
      transmitterId: message.transmitterId,
      name: message.name,
      mail: message.mail,
      object: message.object,
      message: message.message,
      locale: message.locale,
      links: [
        this.links.link('self', 'GET', `/v1/contacts/${message.id}`, 'Get this contact message'),
        this.links.link(
          'thread',
          'GET',
          `/v1/contacts/${message.conversationId}/messages`,
          'Read the whole thread, oldest first',
        ),
        this.links.link(
          'reply',
          'POST',
          '/v1/contacts',
          `Reply in this thread (send conversationId ${message.conversationId})`,
        ),
      ],
    };
  }

  /** A page of the thread `contactId` belongs to; the page links repeat the path that was asked. */
  toThreadPage(contactId: string, rows: ContactMessageEntity[], total: number, query: PageQueryDto): ContactPageDto {
    const content = rows.map((row) => this.toDto(row));
    return this.links.page(`/v1/contacts/${contactId}/messages`, content, total, query.currentPage, query.sizePage);
  }
}
