import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CLS_ID, ClsService } from 'nestjs-cls';
import { AppConfig, InjectConfig } from '../config/app.config';
import { classifySmtpError, SmtpTransport } from '../delivery/smtp.transport';
import { TemplateRenderer } from '../delivery/template.renderer';
import { MetricsService } from '../health/metrics.service';
import { DirectoryUnavailableError } from '../recipients/user-directory.client';
import { RecipientsService } from '../recipients/recipients.service';
import { SuppressionsService } from '../suppressions/suppressions.service';
import { DeliverySettler } from './delivery-settler';
import { DEFAULT_LOCALE, Locale, LOCALES } from '../catalog/mail-category';
import { ClaimedDelivery, MailRepository, Settlement } from './mail.repository';
import { AttemptOutcome, DeliveryErrorCode } from './mail-status';
import { nextAttempt } from './retry-policy';

/** Replies to RCPT TO that mean the address itself is refused for good: it joins the suppression list. */
const HARD_BOUNCE_CODES = [550, 551, 553];

/** Time kept out of SHUTDOWN_GRACE_SECONDS for what follows the drain (closing pools, exiting). */
const SHUTDOWN_MARGIN_MS = 2_000;

/**
 * Delivers the copies of mails, one per receiver: claims due deliveries (each with a lease, its
 * attempt recorded before any SMTP traffic), resolves the receiver, renders, sends, and has the
 * outcome recorded. A 4xx, a timeout or an unreachable relay is retried with backoff; a 5xx or an
 * unknown receiver fails the delivery at once. Runs in RUN_MODE=worker and all.
 */
@Injectable()
export class MailDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(MailDeliveryWorker.name);
  private readonly inFlight = new Set<Promise<void>>();
  private loop?: Promise<void>;
  private stopping = false;
  /** Set when the shutdown grace ran out: what is still in flight is left to its lease. */
  private abandoned = false;
  private wake?: () => void;

  constructor(
    private readonly mails: MailRepository,
    private readonly settler: DeliverySettler,
    private readonly recipients: RecipientsService,
    private readonly suppressions: SuppressionsService,
    private readonly renderer: TemplateRenderer,
    private readonly smtp: SmtpTransport,
    private readonly metrics: MetricsService,
    private readonly cls: ClsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.runMode === 'api') return;
    this.loop = this.run();
  }

  /** New work was just queued by this process: look now rather than at the next poll. */
  nudge(): void {
    this.wake?.();
  }

  /**
   * SIGTERM: take no more work, let the deliveries in hand finish within the grace period and their
   * outcomes be recorded; whatever is still running then keeps its SENDING state and is taken up
   * again when its lease runs out.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.loop) return;
    const deadline = Date.now() + Math.max(1_000, this.config.delivery.shutdownGraceSeconds * 1000 - SHUTDOWN_MARGIN_MS);
    this.stopping = true;
    this.wake?.();
    await this.loop;
    if (!(await settledBefore([...this.inFlight], deadline))) {
      this.abandoned = true;
      this.logger.warn({ deliveries: this.inFlight.size }, 'Shutdown grace over: deliveries still in flight are left to their lease');
    }
    await this.settler.drain(deadline);
  }

  private async run(): Promise<void> {
    const { concurrency, leaseSeconds, pollingIntervalSeconds } = this.config.delivery;
    while (!this.stopping) {
      const free = concurrency - this.inFlight.size;
      if (free <= 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      let claimed: ClaimedDelivery[] = [];
      try {
        claimed = await this.mails.claimDue(free, leaseSeconds);
      } catch (error) {
        this.logger.warn({ err: error }, 'Could not claim deliveries; trying again shortly');
      }
      for (const delivery of claimed) {
        const running: Promise<void> = this.deliver(delivery).finally(() => this.inFlight.delete(running));
        this.inFlight.add(running);
      }
      // Fewer than asked for: nothing else is due now.
      if (claimed.length < free && !this.stopping) await this.idle(pollingIntervalSeconds * 1000);
    }
  }

  private deliver(delivery: ClaimedDelivery): Promise<void> {
    return this.cls.run(async () => {
      this.cls.set(CLS_ID, delivery.mail.correlationId);
      let settlement: Settlement;
      try {
        settlement = await this.attempt(delivery);
      } catch (error) {
        this.logger.error({ err: error, deliveryId: delivery.id }, 'Delivery attempt failed unexpectedly');
        settlement = this.temporaryFailure(delivery, null, 'The attempt failed inside the service.', null);
      }
      if (this.abandoned) return;
      const status = await this.settler.settle(settlement);
      if (!status) return;
      this.metrics.deliveries.inc({ status: status === 'PENDING' ? 'RETRY' : status });
      const errorCode = status === 'CANCELLED' ? undefined : (settlement.errorCode ?? undefined);
      this.logger.log({ mailId: delivery.mailId, deliveryId: delivery.id, attempt: delivery.attempt, status, errorCode }, 'Delivery attempt recorded');
    });
  }

  /** One attempt, from the receiver's address to the relay's answer. */
  private async attempt(delivery: ClaimedDelivery): Promise<Settlement> {
    const { mail } = delivery;
    // Cancelled during the attempt of a worker that then stopped: never tried again. Any outcome but
    // SENT settles a cancelled delivery as CANCELLED.
    if (delivery.cancelRequested) {
      return { id: delivery.id, attempt: delivery.attempt, status: 'PENDING', outcome: AttemptOutcome.TEMPORARY_FAILURE, email: null, sentAt: null, dueAt: null, errorCode: null, error: null, smtpResponse: null };
    }
    // A delivery whose workers keep dying mid-send is not tried for ever.
    if (delivery.attempt - delivery.attemptsBase > this.config.delivery.maxAttempts) {
      return failed(delivery, null, DeliveryErrorCode.RETRIES_EXHAUSTED, `Gave up after ${this.config.delivery.maxAttempts} attempts.`, null, AttemptOutcome.TEMPORARY_FAILURE);
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
      return failed(delivery, null, DeliveryErrorCode.RECIPIENT_NOT_FOUND, 'No e-mail address is known for this receiver id.', null, AttemptOutcome.PERMANENT_FAILURE);
    }
    if (suppressed) {
      return failed(delivery, recipient.email, DeliveryErrorCode.SUPPRESSED, 'The address is on the suppression list; the relay was not contacted.', null, AttemptOutcome.PERMANENT_FAILURE);
    }

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
    });
    const base = { id: delivery.id, attempt: delivery.attempt, email: recipient.email, dueAt: null, errorCode: null, error: null };
    if (mail.testMode) {
      return { ...base, status: 'SENT', outcome: AttemptOutcome.SENT, sentAt: new Date(), smtpResponse: null };
    }
    try {
      const response = await this.smtp.send({
        to: recipient.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        replyTo: mail.replyTo ?? undefined,
        messageId: delivery.messageId,
        headers: {
          ...rendered.headers,
          'X-Correlation-ID': mail.correlationId,
          'X-Mail-Id': mail.id,
          'X-Mail-Category': mail.category,
          ...(delivery.contact ? { 'X-Contact-Id': delivery.contact.contactId, 'X-Contact-Thread-Id': delivery.contact.conversationId } : {}),
        },
      });
      return { ...base, status: 'SENT', outcome: AttemptOutcome.SENT, sentAt: new Date(), smtpResponse: response };
    } catch (error) {
      const failure = classifySmtpError(error);
      if (failure.permanent) {
        const hardBounce = failure.command === 'RCPT TO' && HARD_BOUNCE_CODES.includes(failure.responseCode ?? 0);
        const settlement = failed(delivery, recipient.email, DeliveryErrorCode.SMTP_REJECTED, hardBounce ? 'The relay refused this address.' : 'The relay refused this mail.', failure.response, AttemptOutcome.PERMANENT_FAILURE);
        return { ...settlement, suppress: hardBounce };
      }
      return this.temporaryFailure(delivery, recipient.email, 'The relay could not take the mail for now.', failure.response);
    }
  }

  /** Retried later with backoff, or FAILED when its attempts or its age are spent. */
  private temporaryFailure(delivery: ClaimedDelivery, email: string | null, message: string, smtpResponse: string | null): Settlement {
    const decision = nextAttempt(this.config.delivery, delivery.attempt - delivery.attemptsBase, delivery.firstDueAt, new Date());
    if (decision.retry) {
      return { id: delivery.id, attempt: delivery.attempt, status: 'PENDING', outcome: AttemptOutcome.TEMPORARY_FAILURE, email, sentAt: null, dueAt: decision.at, errorCode: DeliveryErrorCode.SMTP_TEMPORARY, error: message, smtpResponse };
    }
    const why =
      decision.code === DeliveryErrorCode.EXPIRED
        ? `Not delivered within ${this.config.delivery.maxAgeHours} hours. Last error: ${message}`
        : `Gave up after ${this.config.delivery.maxAttempts} attempts. Last error: ${message}`;
    return failed(delivery, email, decision.code, why, smtpResponse, AttemptOutcome.TEMPORARY_FAILURE);
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function failed(delivery: ClaimedDelivery, email: string | null, errorCode: DeliveryErrorCode, error: string, smtpResponse: string | null, outcome: AttemptOutcome): Settlement {
  return { id: delivery.id, attempt: delivery.attempt, status: 'FAILED', outcome, email, sentAt: null, dueAt: null, errorCode, error, smtpResponse };
}

function pickLocale(forced: string | null, own: string | null): Locale {
  for (const candidate of [forced, own]) {
    if (candidate && (LOCALES as readonly string[]).includes(candidate)) return candidate as Locale;
  }
  return DEFAULT_LOCALE;
}

/** Whether every promise settled before `deadline` (a timestamp); the timer never outlives the wait. */
async function settledBefore(promises: Promise<unknown>[], deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
