import { Injectable } from '@nestjs/common';
import { LinksBuilder } from '../common/links/links.builder';
import { DeliveryEntity } from './delivery.entity';
import { DeliveryDto, MailDto, MailPageDto } from './dto/mail.dto';
import { ListMailsQueryDto } from './dto/list-mails.query.dto';
import { MailEntity } from './mail.entity';

/** Turns mails into their responses; the only place that adds their links. */
@Injectable()
export class MailMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(mail: MailEntity, deliveries: DeliveryEntity[]): MailDto {
    return {
      id: mail.id,
      sendingDate: mail.sendingDate?.toISOString() ?? null,
      receiversId: mail.receiversId,
      publicationId: mail.publicationId,
      reservationId: mail.reservationId,
      productType: mail.productType,
      organizationId: mail.organizationId,
      establishmentId: mail.establishmentId,
      category: mail.category,
      variables: mail.variables,
      locale: mail.locale,
      testMode: mail.testMode,
      status: mail.status,
      createdAt: mail.createdAt.toISOString(),
      correlationId: mail.correlationId,
      deliveries: deliveries.map((delivery) => this.toDeliveryDto(delivery)),
      links: [this.links.link('self', 'GET', `/v1/mails/${mail.id}`, 'Get this mail')],
    };
  }

  toPage(rows: Array<{ mail: MailEntity; deliveries: DeliveryEntity[] }>, total: number, query: ListMailsQueryDto): MailPageDto {
    const { currentPage, sizePage, ...filters } = query;
    const content = rows.map(({ mail, deliveries }) => this.toDto(mail, deliveries));
    return this.links.page('/v1/mails', content, total, currentPage, sizePage, filters);
  }

  private toDeliveryDto(delivery: DeliveryEntity): DeliveryDto {
    return {
      receiverId: delivery.receiverId,
      status: delivery.status,
      attempts: delivery.attempts,
      email: delivery.email ? maskEmail(delivery.email) : null,
      sentAt: delivery.sentAt?.toISOString() ?? null,
      messageId: delivery.messageId,
      error: delivery.error,
    };
  }
}

/** `jeanne@example.com` → `j***@example.com`: enough to recognise, not enough to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
