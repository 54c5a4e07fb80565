import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { QueuedJob, QueueService, RetryLater } from '../delivery/queue.service';
import { classifySmtpError, SmtpTransport } from '../delivery/smtp.transport';
import { TemplateRenderer } from '../delivery/template.renderer';
import { MetricsService } from '../health/metrics.service';
import { DEFAULT_LOCALE, Locale, LOCALES } from '../catalog/mail-category';
import { NotificationStatus } from './contact-notification.entity';
import { ContactRepository, NotificationOutcome } from './contact.repository';
import { CONTACT_NOTIFICATION_QUEUE, ContactNotificationJob } from './contacts.service';

/**
 * Sends one notification mail of a contact message per queue job and records the outcome on the
 * notification row. A 4xx or an unreachable server is retried with backoff (the row stays
 * PENDING); a 5xx fails it at once. What the writer typed only reaches the mail through the
 * renderer (escaped); the headers hold validated addresses and ids the service generated.
 */
@Injectable()
export class ContactNotificationWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger(ContactNotificationWorker.name);

  constructor(
    private readonly queue: QueueService,
    private readonly contacts: ContactRepository,
    private readonly renderer: TemplateRenderer,
    private readonly smtp: SmtpTransport,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work<ContactNotificationJob>(CONTACT_NOTIFICATION_QUEUE, (job) => this.deliver(job));
  }

  async deliver(job: QueuedJob<ContactNotificationJob>): Promise<void> {
    const found = await this.contacts.findNotificationWithMessage(job.data.notificationId);
    // Already settled: a job run twice after a crash.
    if (!found || found.notification.status !== NotificationStatus.PENDING) return;
    const { notification, message } = found;
    const lastAttempt = job.retryCount >= job.retryLimit;

    const rendered = this.renderer.renderContact(notification.kind, asLocale(notification.locale), {
      name: message.name,
      mail: message.mail,
      object: message.object,
      message: message.message,
      contactId: message.id,
      conversationId: message.conversationId,
      firstName: notification.firstName,
      // The frontend has no documented page for contact threads: no button; answers go by mail.
      buttonUrl: undefined,
    });
    try {
      await this.smtp.send({
        to: notification.toAddress,
        replyTo: notification.replyTo ?? undefined,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        messageId: notification.messageId,
        headers: {
          ...rendered.headers,
          'X-Correlation-ID': notification.correlationId,
          'X-Contact-Id': message.id,
          'X-Contact-Thread-Id': message.conversationId,
          'X-Mail-Category': notification.kind,
        },
      });
    } catch (error) {
      const failure = classifySmtpError(error);
      if (failure.permanent || lastAttempt) {
        const reason = failure.permanent ? failure.response : `Gave up after retries: ${failure.response}`;
        return this.settle(notification.id, { status: NotificationStatus.FAILED, error: reason, sentAt: null });
      }
      await this.contacts.recordAttempt(notification.id, failure.response);
      this.metrics.deliveries.inc({ status: 'RETRY' });
      this.logger.warn({ notificationId: notification.id, reason: failure.response }, 'Contact notification will be retried');
      throw new RetryLater(failure.response);
    }
    await this.settle(notification.id, { status: NotificationStatus.SENT, error: null, sentAt: new Date() });
  }

  private async settle(id: string, outcome: NotificationOutcome): Promise<void> {
    if (await this.contacts.settle(id, outcome)) {
      this.metrics.deliveries.inc({ status: outcome.status });
      this.logger.log({ notificationId: id, status: outcome.status, error: outcome.error ?? undefined }, 'Contact notification settled');
    }
  }
}

function asLocale(value: string): Locale {
  return (LOCALES as readonly string[]).includes(value) ? (value as Locale) : DEFAULT_LOCALE;
}
