import { Injectable } from '@nestjs/common';
import { LinkDto } from '../common/links/link.dto';
import { LinksBuilder } from '../common/links/links.builder';
import { DeliveryEntity } from './delivery.entity';
import { DeliveryAttemptDto, DeliveryDto, MailDto, MailPageDto } from './dto/mail.dto';
import { ListMailsQueryDto } from './dto/list-mails.query.dto';
import { MailEntity } from './mail.entity';
import { DeliveryAttempt } from './mail.queries';
import { DeliveryStatus, MailStatus, UNFINISHED } from './mail-status';

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
      forceSending: mail.forceSending,
      forcedBy: mail.forcedBy,
      scheduledAt: mail.scheduledAt?.toISOString() ?? null,
      status: mail.status,
      createdAt: mail.createdAt.toISOString(),
      purgedAt: mail.purgedAt?.toISOString() ?? null,
      correlationId: mail.correlationId,
      cancelRequested: deliveries.some((d) => d.cancelRequested),
      deliveries: deliveries.map((delivery) => this.toDeliveryDto(delivery)),
      links: this.mailLinks(mail, deliveries),
    };
  }

  toPage(
    rows: Array<{ mail: MailEntity; deliveries: DeliveryEntity[] }>,
    total: number,
    query: ListMailsQueryDto,
    nextCursor?: string,
  ): MailPageDto {
    const { currentPage, sizePage, cursor: _cursor, ...filters } = query;
    const content = rows.map(({ mail, deliveries }) => this.toDto(mail, deliveries));
    return this.links.page('/v1/mails', content, total, currentPage, sizePage, filters, nextCursor);
  }

  toAttemptDtos(attempts: DeliveryAttempt[]): DeliveryAttemptDto[] {
    return attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: a.startedAt.toISOString(),
      finishedAt: a.finishedAt?.toISOString() ?? null,
      outcome: a.outcome,
      smtpResponse: a.smtpResponse,
    }));
  }

  /**
   * Only the actions allowed now: cancel while a delivery has not ended and no cancellation reached
   * it yet, reschedule while scheduled, retry after a failure of a mail that was never cancelled.
   */
  private mailLinks(mail: MailEntity, deliveries: DeliveryEntity[]): LinkDto[] {
    const path = `/v1/mails/${mail.id}`;
    const links = [this.links.link('self', 'GET', path, 'Get this mail')];
    if (deliveries.some((d) => UNFINISHED.includes(d.status) && !d.cancelRequested))
      links.push(this.links.link('cancel', 'DELETE', path, 'Cancel this mail'));
    if (mail.status === MailStatus.SCHEDULED)
      links.push(this.links.link('reschedule', 'PATCH', path, 'Send this mail at another time'));
    const cancelled = deliveries.some((d) => d.status === DeliveryStatus.CANCELLED || d.cancelRequested);
    if (!cancelled && !mail.purgedAt && deliveries.some((d) => d.status === DeliveryStatus.FAILED))
      links.push(this.links.link('retry', 'POST', `${path}/retry`, 'Queue the failed deliveries again'));
    return links;
  }

  private toDeliveryDto(delivery: DeliveryEntity): DeliveryDto {
    const waiting = delivery.status === DeliveryStatus.SCHEDULED || delivery.status === DeliveryStatus.PENDING;
    return {
      receiverId: delivery.receiverId,
      // SENDING is the worker's business: for callers the delivery is still pending.
      status: delivery.status === 'SENDING' ? DeliveryStatus.PENDING : delivery.status,
      attempts: delivery.attempts,
      nextAttemptAt: waiting ? delivery.dueAt.toISOString() : null,
      email: delivery.email ? maskEmail(delivery.email) : null,
      sentAt: delivery.sentAt?.toISOString() ?? null,
      messageId: delivery.messageId,
      error: delivery.errorCode
        ? {
            code: delivery.errorCode,
            message: delivery.error ?? delivery.errorCode,
            smtpResponse: delivery.smtpResponse,
          }
        : null,
      cancelRequested: delivery.cancelRequested,
      complainedAt: delivery.complainedAt?.toISOString() ?? null,
    };
  }
}

/** `jeanne@example.com` → `j***@example.com`: enough to recognise, not enough to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
