import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { MailCategory, MailReferenceField, ProductType } from '../catalog/mail-category';
import type { VariableValue } from '../catalog/mail-variables';
import { AppConfig, InjectConfig } from '../config/app.config';
import { DeliveryEntity } from './delivery.entity';
import { MailEntity, MailWithDeliveries } from './mail.entity';
import { senderDomain } from './message-id';
import { DeliveryStatus, MailStatus } from './mail-status';

/** What a mail is, whoever asks for it: a caller's event, an unread digest, a contact thread. */
export interface MailSpec {
  category: MailCategory;
  /** Receivers in order; `email` set: the address is known now (a contact mail), not looked up. */
  receivers: Array<{ id: string; email?: string }>;
  ids?: Partial<Record<MailReferenceField, string | null>>;
  productType?: ProductType | null;
  variables?: Record<string, VariableValue>;
  locale?: string | null;
  testMode?: boolean;
  /** Sent despite the receivers' refusal of a SUBSCRIPTION category (contract A3), asked by `forcedBy`. */
  forceSending?: boolean;
  /** The caller that forced it (API key name, admin's sub); null when unknown (AUTH_MODE=off). */
  forcedBy?: string | null;
  /** Sent at that time (SCHEDULED), else at once (PENDING). */
  scheduledAt?: Date | null;
  correlationId: string;
  contactMessageId?: string | null;
  replyTo?: string | null;
}

/**
 * Builds the rows of a mail: the mail and one delivery per receiver, due now or at its time, each
 * with a Message-ID fixed for all its attempts. Every mail the service sends is built here.
 */
@Injectable()
export class MailFactory {
  private readonly messageIdDomain: string;

  constructor(@InjectConfig() config: AppConfig) {
    this.messageIdDomain = senderDomain(config.mail.from);
  }

  build(spec: MailSpec, now = new Date()): MailWithDeliveries {
    const scheduledAt = spec.scheduledAt ?? null;
    const mail = Object.assign(new MailEntity(), {
      id: randomUUID(),
      category: spec.category,
      receiversId: spec.receivers.map((receiver) => receiver.id),
      publicationId: spec.ids?.publicationId ?? null,
      reservationId: spec.ids?.reservationId ?? null,
      productType: spec.productType ?? null,
      organizationId: spec.ids?.organizationId ?? null,
      establishmentId: spec.ids?.establishmentId ?? null,
      variables: spec.variables ?? {},
      locale: spec.locale ?? null,
      testMode: spec.testMode ?? false,
      forceSending: spec.forceSending ?? false,
      forcedBy: spec.forceSending ? (spec.forcedBy ?? null) : null,
      status: scheduledAt ? MailStatus.SCHEDULED : MailStatus.PENDING,
      correlationId: spec.correlationId,
      scheduledAt,
      sendingDate: null,
      contactMessageId: spec.contactMessageId ?? null,
      replyTo: spec.replyTo ?? null,
      purgedAt: null,
      createdAt: now,
      updatedAt: now,
    });
    const deliveries = spec.receivers.map((receiver, position) => {
      const id = randomUUID();
      return Object.assign(new DeliveryEntity(), {
        id,
        mailId: mail.id,
        position,
        receiverId: receiver.id,
        status: scheduledAt ? DeliveryStatus.SCHEDULED : DeliveryStatus.PENDING,
        attempts: 0,
        attemptsBase: 0,
        dueAt: scheduledAt ?? now,
        firstDueAt: scheduledAt ?? now,
        email: receiver.email ?? null,
        messageId: `<${id}@${this.messageIdDomain}>`,
        sentAt: null,
        errorCode: null,
        error: null,
        smtpResponse: null,
        cancelRequested: false,
        updatedAt: now,
      });
    });
    return { mail, deliveries };
  }
}
