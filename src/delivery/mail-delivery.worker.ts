import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { CLS_ID, ClsService } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { MetricsService } from '../common/metrics/metrics.service';
import { QueueHandler } from '../queue/queue-handler';
import { Queues } from '../queue/queues';
import { DirectoryUnavailableError } from '../recipients/user-directory.client';
import { RecipientsService } from '../recipients/recipients.service';
import { SubscriptionRepository } from '../recipients/subscription.repository';
import { SuppressionsService } from '../suppressions/suppressions.service';
import {
  ANSWERABLE_CATEGORIES,
  DEFAULT_LOCALE,
  Locale,
  LOCALES,
  SUBSCRIPTION_CATEGORIES,
} from '../catalog/mail-category';
import { InboundAddresses } from './inbound-address';
import { unsubscribeAddress } from '../recipients/unsubscribe-address';
import { MAIL_DELIVERIES } from '../mails/mail-deliveries.queue';
import { AttemptOutcome, DeliveryErrorCode, StoredDeliveryStatus } from '../mails/mail-status';
import { nextAttempt } from './retry-policy';
import { classifySmtpError, SmtpTransport } from './smtp.transport';
import { ClaimedDelivery, claimDueDeliveries } from './sql/claim-due-deliveries';
import { settleDeliveries, Settlement } from './sql/settle-deliveries';
import { TemplateRenderer } from './template.renderer';

/** Replies to RCPT TO that mean the address itself is refused for good: it joins the suppression list. */
const HARD_BOUNCE_CODES = [550, 551, 553];

/**
 * Delivers the copies of mails, one per receiver, as a handler of the lease runner (src/queue):
 * each claimed delivery has its attempt recorded before any SMTP traffic; the handler resolves the
 * receiver, renders, sends, and returns the outcome the runner settles. A 4xx, a timeout or an
 * unreachable relay is retried with backoff; a 5xx or an unknown receiver fails the delivery at
 * once. Every SMTP timeout is shorter than DELIVERY_LEASE_SECONDS (smtpTimeouts). Runs in
 * RUN_MODE=worker and all.
 */
@Injectable()
export class MailDeliveryWorker
  implements QueueHandler<ClaimedDelivery, Settlement, StoredDeliveryStatus | null>, OnModuleInit
{
  readonly name = MAIL_DELIVERIES;
  private readonly logger = new Logger(MailDeliveryWorker.name);
  /** Where answers and bounces come back (contract A2); none when inbound mail is off. */
  private readonly inbound?: InboundAddresses;
  /**
   * Where the unsubscribe links of SUBSCRIPTION mails point: PUBLIC_BASE_URL. Unset (local), the
   * service's own address: a worker serves no request to learn it from (LinksBuilder falls back to
   * the request's), and locally (`npm start`, RUN_MODE=all) the API listens on PORT of this
   * machine, so `http://localhost:{PORT}` is right. Deployed with separate API and worker
   * processes, PUBLIC_BASE_URL must be set.
   */
  private readonly publicBaseUrl: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: Queues,
    private readonly recipients: RecipientsService,
    private readonly suppressions: SuppressionsService,
    private readonly subscriptions: SubscriptionRepository,
    private readonly renderer: TemplateRenderer,
    private readonly smtp: SmtpTransport,
    private readonly metrics: MetricsService,
    private readonly cls: ClsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    if (config.inbound.enabled) this.inbound = new InboundAddresses(config.inbound.domain, config.inbound.secret);
    this.publicBaseUrl = config.http.publicBaseUrl ?? `http://localhost:${config.http.port}`;
  }

  onModuleInit(): void {
    const { concurrency, leaseSeconds, pollingIntervalSeconds } = this.config.delivery;
    this.queues.register(this, { concurrency, leaseSeconds, pollMs: pollingIntervalSeconds * 1000 });
  }

  claim(limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    return claimDueDeliveries(this.dataSource, limit, leaseSeconds);
  }

  /** The status each delivery now has (CANCELLED when a cancellation reached the attempt), or null if it was no longer this attempt's. */
  async settle(settlements: Settlement[]): Promise<Array<StoredDeliveryStatus | null>> {
    const settled = await settleDeliveries(this.dataSource, settlements);
    return settlements.map((settlement) => settled.get(settlement.id) ?? null);
  }

  /** Logs and metrics carry the mail's correlation id. */
  context<T>(delivery: ClaimedDelivery, work: () => Promise<T>): Promise<T> {
    return this.cls.run(() => {
      this.cls.set(CLS_ID, delivery.mail.correlationId);
      return work();
    });
  }

  async handle(delivery: ClaimedDelivery): Promise<Settlement> {
    try {
      return await this.attempt(delivery);
    } catch (error) {
      this.logger.error({ err: error, deliveryId: delivery.id }, 'Delivery attempt failed unexpectedly');
      return this.temporaryFailure(delivery, null, 'The attempt failed inside the service.', null);
    }
  }

  settled(delivery: ClaimedDelivery, settlement: Settlement, status: StoredDeliveryStatus | null | undefined): void {
    if (!status) return;
    this.metrics.deliveries.inc({ status: status === 'PENDING' ? 'RETRY' : status });
    const errorCode = status === 'CANCELLED' ? undefined : (settlement.errorCode ?? undefined);
    this.logger.log(
      { mailId: delivery.mailId, deliveryId: delivery.id, attempt: delivery.attempt, status, errorCode },
      'Delivery attempt recorded',
    );
  }

  /** One attempt, from the receiver's address to the relay's answer. */
  private async attempt(delivery: ClaimedDelivery): Promise<Settlement> {
    const { mail } = delivery;
    // Cancelled during the attempt of a worker that then stopped: never tried again. Any outcome but
    // SENT settles a cancelled delivery as CANCELLED.
    if (delivery.cancelRequested) {
      return {
        id: delivery.id,
        attempt: delivery.attempt,
        status: 'PENDING',
        outcome: AttemptOutcome.TEMPORARY_FAILURE,
        email: null,
        sentAt: null,
        dueAt: null,
        errorCode: null,
        error: null,
        smtpResponse: null,
      };
    }
    // A delivery whose workers keep dying mid-send is not tried for ever.
    if (delivery.attempt - delivery.attemptsBase > this.config.delivery.maxAttempts) {
      return failed(
        delivery,
        null,
        DeliveryErrorCode.RETRIES_EXHAUSTED,
        `Gave up after ${this.config.delivery.maxAttempts} attempts.`,
        null,
        AttemptOutcome.TEMPORARY_FAILURE,
      );
    }
    let recipient = delivery.recipient;
    let suppressed = delivery.suppressed;
    if (!recipient) {
      try {
        recipient = await this.recipients.lookUpDirectory(delivery.receiverId);
      } catch (error) {
        if (!(error instanceof DirectoryUnavailableError)) throw error;
        return this.temporaryFailure(delivery, null, error.message, null);
      }
      // The claim checked the directory table's address; one from the HTTP directory is checked here.
      if (recipient) suppressed = await this.suppressions.isSuppressed(recipient.email);
    }
    if (!recipient) {
      return failed(
        delivery,
        null,
        DeliveryErrorCode.RECIPIENT_NOT_FOUND,
        'No e-mail address is known for this receiver id.',
        null,
        AttemptOutcome.PERMANENT_FAILURE,
      );
    }
    if (suppressed) {
      return failed(
        delivery,
        recipient.email,
        DeliveryErrorCode.SUPPRESSED,
        'The address is on the suppression list; the relay was not contacted.',
        null,
        AttemptOutcome.PERMANENT_FAILURE,
      );
    }
    // Consent (contract A3), read now: an unsubscribe reaches every copy not yet sent, queued or not.
    // forceSending passes a refusal, never the suppression list above.
    const subscription = SUBSCRIPTION_CATEGORIES.has(mail.category) ? await this.subscription(delivery) : null;
    if (subscription && !subscription.subscribed && !mail.forceSending) {
      return failed(
        delivery,
        recipient.email,
        DeliveryErrorCode.UNSUBSCRIBED,
        'The receiver unsubscribed from this category.',
        null,
        AttemptOutcome.PERMANENT_FAILURE,
      );
    }
    const unsubscribeUrl = subscription ? `${this.publicBaseUrl}/v1/unsubscribe/${subscription.token}` : undefined;

    const rendered = this.renderer.renderCategory(mail.category, pickLocale(mail.locale, recipient.locale), {
      category: mail.category,
      firstName: recipient.firstName,
      lastName: recipient.lastName,
      publicationId: mail.publicationId,
      reservationId: mail.reservationId,
      organizationId: mail.organizationId,
      establishmentId: mail.establishmentId,
      productType: mail.productType,
      buttonUrl: this.renderer.buttonUrl(mail.category, mail, mail.variables),
      vars: mail.variables,
      contact: delivery.contact ?? undefined,
      unsubscribeUrl,
    });
    const base = {
      id: delivery.id,
      attempt: delivery.attempt,
      email: recipient.email,
      dueAt: null,
      errorCode: null,
      error: null,
    };
    if (mail.testMode) {
      return { ...base, status: 'SENT', outcome: AttemptOutcome.SENT, sentAt: new Date(), smtpResponse: null };
    }
    try {
      const response = await this.smtp.send({
        to: recipient.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        replyTo:
          this.inbound && ANSWERABLE_CATEGORIES.has(mail.category)
            ? this.inbound.address('reply', delivery.id)
            : (mail.replyTo ?? undefined),
        envelopeFrom: this.inbound?.address('bounces', delivery.id),
        messageId: delivery.messageId,
        headers: {
          ...rendered.headers,
          'X-Correlation-ID': mail.correlationId,
          'X-Mail-Id': mail.id,
          'X-Mail-Category': mail.category,
          ...(subscription ? this.unsubscribeHeaders(unsubscribeUrl!, subscription.token) : {}),
          ...(delivery.contact
            ? { 'X-Contact-Id': delivery.contact.contactId, 'X-Contact-Thread-Id': delivery.contact.conversationId }
            : {}),
        },
      });
      return { ...base, status: 'SENT', outcome: AttemptOutcome.SENT, sentAt: new Date(), smtpResponse: response };
    } catch (error) {
      const failure = classifySmtpError(error);
      if (failure.permanent) {
        const hardBounce = failure.command === 'RCPT TO' && HARD_BOUNCE_CODES.includes(failure.responseCode ?? 0);
        const settlement = failed(
          delivery,
          recipient.email,
          DeliveryErrorCode.SMTP_REJECTED,
          hardBounce ? 'The relay refused this address.' : 'The relay refused this mail.',
          failure.response,
          AttemptOutcome.PERMANENT_FAILURE,
        );
        return { ...settlement, suppress: hardBounce };
      }
      return this.temporaryFailure(
        delivery,
        recipient.email,
        'The relay could not take the mail for now.',
        failure.response,
      );
    }
  }

  /** The receiver's consent to the mail's category: read by the claim, or made with its token on the first mail. */
  private async subscription(delivery: ClaimedDelivery): Promise<{ subscribed: boolean; token: string }> {
    if (delivery.subscription) return delivery.subscription;
    const row = await this.subscriptions.ensure(delivery.receiverId, delivery.mail.category);
    return { subscribed: row.emailSubscribed, token: row.unsubscribeToken };
  }

  /**
   * RFC 2369 and RFC 8058 one-click unsubscribe: the POST URL, and the mailto form when inbound mail
   * is on (the inbound listener handles `unsubscribe+{token}@INBOUND_DOMAIN`).
   */
  private unsubscribeHeaders(url: string, token: string): Record<string, string> {
    const mailto = this.inbound ? `, <mailto:${unsubscribeAddress(token, this.config.inbound.domain)}>` : '';
    return {
      'List-Unsubscribe': `<${url}>${mailto}`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
  }

  /** Retried later with backoff, or FAILED when its attempts or its age are spent. */
  private temporaryFailure(
    delivery: ClaimedDelivery,
    email: string | null,
    message: string,
    smtpResponse: string | null,
  ): Settlement {
    const decision = nextAttempt(
      this.config.delivery,
      delivery.attempt - delivery.attemptsBase,
      delivery.firstDueAt,
      new Date(),
    );
    if (decision.retry) {
      return {
        id: delivery.id,
        attempt: delivery.attempt,
        status: 'PENDING',
        outcome: AttemptOutcome.TEMPORARY_FAILURE,
        email,
        sentAt: null,
        dueAt: decision.at,
        errorCode: DeliveryErrorCode.SMTP_TEMPORARY,
        error: message,
        smtpResponse,
      };
    }
    const why =
      decision.code === DeliveryErrorCode.EXPIRED
        ? `Not delivered within ${this.config.delivery.maxAgeHours} hours. Last error: ${message}`
        : `Gave up after ${this.config.delivery.maxAttempts} attempts. Last error: ${message}`;
    return failed(delivery, email, decision.code, why, smtpResponse, AttemptOutcome.TEMPORARY_FAILURE);
  }
}

function failed(
  delivery: ClaimedDelivery,
  email: string | null,
  errorCode: DeliveryErrorCode,
  error: string,
  smtpResponse: string | null,
  outcome: AttemptOutcome,
): Settlement {
  return {
    id: delivery.id,
    attempt: delivery.attempt,
    status: 'FAILED',
    outcome,
    email,
    sentAt: null,
    dueAt: null,
    errorCode,
    error,
    smtpResponse,
  };
}

function pickLocale(forced: string | null, own: string | null): Locale {
  for (const candidate of [forced, own]) {
    if (candidate && (LOCALES as readonly string[]).includes(candidate)) return candidate as Locale;
  }
  return DEFAULT_LOCALE;
}
