import { Injectable } from '@nestjs/common';
import { LinkDto } from '../common/links/link.dto';
import { LinksBuilder } from '../common/links/links.builder';
import {
  InboundMessageDto,
  InboundMessageKind,
  InboundMessagePageDto,
  ListInboundMessagesQueryDto,
} from './dto/inbound-message.dto';
import { InboundRecord } from './inbound.repository';

@Injectable()
export class InboundMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(record: InboundRecord): InboundMessageDto {
    const links: LinkDto[] = [
      this.links.link('self', 'GET', `/v1/inbound/messages/${record.id}`, 'Get this inbound message'),
    ];
    if (record.mailId) links.push(this.links.link('mail', 'GET', `/v1/mails/${record.mailId}`, 'The mail it is about'));
    if (record.contactId) {
      links.push(this.links.link('contact', 'GET', `/v1/contacts/${record.contactId}/messages`, 'The contact thread'));
      if (record.postedMessageId)
        links.push(
          this.links.link('postedMessage', 'GET', `/v1/contacts/${record.postedMessageId}`, 'The message it became'),
        );
    }
    if (record.conversationId) {
      const conversation = `/v1/conversations/${record.conversationId}`;
      links.push(this.links.link('conversation', 'GET', conversation, 'The conversation'));
      if (record.postedMessageId)
        links.push(
          this.links.link(
            'postedMessage',
            'GET',
            `${conversation}/messages/${record.postedMessageId}`,
            'The message it became',
          ),
        );
    }
    return {
      id: record.id,
      kind: record.kind as InboundMessageKind,
      receivedAt: record.receivedAt.toISOString(),
      from: record.from,
      to: record.to,
      subject: record.subject,
      messageId: record.messageId,
      deliveryId: record.deliveryId,
      mailId: record.mailId,
      contactId: record.contactId,
      conversationId: record.conversationId,
      postedMessageId: record.postedMessageId,
      reason: record.reason,
      links,
    };
  }

  toPage(rows: InboundRecord[], total: number, query: ListInboundMessagesQueryDto): InboundMessagePageDto {
    const { currentPage, sizePage, ...filters } = query;
    return this.links.page(
      '/v1/inbound/messages',
      rows.map((row) => this.toDto(row)),
      total,
      currentPage,
      sizePage,
      filters,
    );
  }
}
