import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { QueuedJob, QueueService, RetryLater } from '../delivery/queue.service';
import { SmtpTransport } from '../delivery/smtp.transport';
import { TemplateRenderer } from '../delivery/template.renderer';
import { MetricsService } from '../health/metrics.service';
import { DirectoryUnavailableError } from '../recipients/user-directory.client';
import { RecipientsService } from '../recipients/recipients.service';
import { DEFAULT_LOCALE, Locale, LOCALES } from './mail-category';
import { DeliveryOutcome, MailRepository } from './mail.repository';
import { DeliveryStatus, RECIPIENT_NOT_FOUND } from './mail-status';
import { MAIL_DELIVERY_QUEUE, MailDeliveryJob } from './mails.service';

/**
 * Delivers one receiver's copy of a mail per queue job: resolve the receiver, render, send, and
 * record the outcome on the delivery row. A 4xx or an unreachable server is retried with backoff
 * (the delivery stays PENDING); a 5xx or an unknown receiver fails the delivery at once.
 */
@Injectable()
export class MailDeliveryWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger(MailDeliveryWorker.name);

  constructor(
    private readonly queue: QueueService,
    private readonly mails: MailRepository,
    private readonly recipients: RecipientsService,
    private readonly renderer: TemplateRenderer,
    private readonly smtp: SmtpTransport,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work<MailDeliveryJob>(MAIL_DELIVERY_QUEUE, (job) => this.deliver(job));
  }

  async deliver(job: QueuedJob<MailDeliveryJob>): Promise<void> {
    const found = await this.mails.findDeliveryWithMail(job.data.deliveryId);
    // Already settled (a job run twice after a crash) or cancelled: nothing to do.
    if (!found || found.delivery.status !== DeliveryStatus.PENDING) return;
    const { delivery, mail } = found;
    const lastAttempt = job.retryCount >= job.retryLimit;

    let recipient;
    try {
      recipient = await this.recipients.resolve(delivery.receiverId);
    } catch (error) {
      if (!(error instanceof DirectoryUnavailableError)) throw error;
      if (!lastAttempt) throw new RetryLater(error.message);
      return this.settle(mail.id, delivery.id, { status: DeliveryStatus.FAILED, email: null, error: `Gave up after retries: ${error.message}`, sentAt: null }, false);
    }
    if (!recipient) {
      return this.settle(mail.id, delivery.id, { status: DeliveryStatus.FAILED, email: null, error: RECIPIENT_NOT_FOUND, sentAt: null }, false);
    }

    const locale = pickLocale(mail.locale, recipient.locale);
    const rendered = this.renderer.renderCategory(mail.category, locale, {
      category: mail.category,
      firstName: recipient.firstName,
      lastName: recipient.lastName,
      publicationId: mail.publicationId,
      reservationId: mail.reservationId,
      organizationId: mail.organizationId,
      establishmentId: mail.establishmentId,
      productType: mail.productType,
      buttonUrl: this.renderer.buttonUrl(mail.category, mail),
      vars: mail.variables,
    });
    if (mail.testMode) {
      this.logger.log({ mailId: mail.id, receiverId: delivery.receiverId }, 'Test mode: rendered, not sent');
      return this.settle(mail.id, delivery.id, { status: DeliveryStatus.SENT, email: recipient.email, error: null, sentAt: new Date() }, false);
    }

    try {
      await this.smtp.send({
        to: recipient.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        messageId: delivery.messageId,
        headers: { 'X-Correlation-ID': mail.correlationId, 'X-Mail-Id': mail.id, 'X-Mail-Category': mail.category },
      });
    } catch (error) {
      const failure = SmtpTransport.classify(error, lastAttempt);
      if (!failure.retry) {
        return this.settle(mail.id, delivery.id, { status: DeliveryStatus.FAILED, email: recipient.email, error: failure.reason, sentAt: null }, true);
      }
      await this.mails.recordAttempt(delivery.id, recipient.email, failure.reason);
      this.metrics.deliveries.inc({ status: 'RETRY' });
      this.logger.warn({ deliveryId: delivery.id, reason: failure.reason }, 'Delivery will be retried');
      throw new RetryLater(failure.reason);
    }
    await this.settle(mail.id, delivery.id, { status: DeliveryStatus.SENT, email: recipient.email, error: null, sentAt: new Date() }, true);
  }

  private async settle(mailId: string, deliveryId: string, outcome: DeliveryOutcome, smtpAttempt: boolean): Promise<void> {
    if (await this.mails.settle(mailId, deliveryId, outcome, smtpAttempt)) {
      this.metrics.deliveries.inc({ status: outcome.status });
      this.logger.log({ mailId, deliveryId, status: outcome.status, error: outcome.error ?? undefined }, 'Delivery settled');
    }
  }
}

function pickLocale(forced: string | null, own: string | null): Locale {
  for (const candidate of [forced, own]) {
    if (candidate && (LOCALES as readonly string[]).includes(candidate)) return candidate as Locale;
  }
  return DEFAULT_LOCALE;
}
