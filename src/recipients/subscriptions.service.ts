import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { currentCaller, seesEverything } from '../auth/caller';
import { DEFAULT_LOCALE, Locale, LOCALES, MAIL_CATEGORIES, SUBSCRIPTION_CATEGORIES } from '../catalog/mail-category';
import { ApiError } from '../common/errors/api-error';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { EventsRepository } from '../events/events.repository';
import { PutSubscriptionDto, SubscriptionsDto, UnsubscribedDto } from './dto/subscriptions.dto';
import { RecipientRepository } from './recipient.repository';
import { SubscriptionMapper } from './subscription.mapper';
import { Subscription, SubscriptionRepository, SubscriptionSource } from './subscription.repository';
import { UserDirectoryClient } from './user-directory.client';

export const RECIPIENT_UNSUBSCRIBED = 'recipient.unsubscribed';

const COLUMNS = `recipient_id AS "recipientId", category, email_subscribed AS "emailSubscribed",
                 changed_at AS "changedAt", source, unsubscribe_token AS "unsubscribeToken"`;

/**
 * Receivers' consent to SUBSCRIPTION categories (contract A3): the preferences API, the one-click
 * unsubscribe (its page and its POST) and the mailto one. A change to unsubscribed writes
 * `recipient.unsubscribed` in its transaction; setting what already is changes and writes nothing.
 */
@Injectable()
export class SubscriptionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly subscriptions: SubscriptionRepository,
    private readonly events: EventsRepository,
    private readonly mapper: SubscriptionMapper,
    private readonly idempotency: IdempotencyService,
    private readonly recipients: RecipientRepository,
    private readonly directory: UserDirectoryClient,
  ) {}

  /** Every SUBSCRIPTION category of a receiver (services, admins, and the receiver themselves). */
  async view(recipientId: string): Promise<SubscriptionsDto> {
    this.assertMayManage(recipientId);
    return this.mapper.toDto(recipientId, await this.subscriptions.findByRecipient(recipientId));
  }

  async put(recipientId: string, category: string, dto: PutSubscriptionDto): Promise<SubscriptionsDto> {
    this.assertMayManage(recipientId);
    if (!SUBSCRIPTION_CATEGORIES.has(category))
      throw ApiError.validation([
        {
          field: 'category',
          location: 'path',
          value: category.slice(0, 50),
          issue: MAIL_CATEGORIES.includes(category as never)
            ? 'is a TRANSACTIONAL category: it cannot be refused'
            : 'must be a SUBSCRIPTION category',
        },
      ]);
    await this.dataSource.transaction((manager) => this.setWithin(manager, recipientId, category, dto.email, 'API'));
    return this.view(recipientId);
  }

  /** The subscription an unsubscribe token names, and the locale of its page; 404 for a token that names none. */
  async byToken(token: string): Promise<{ subscription: Subscription; locale: Locale }> {
    const subscription = await this.subscriptions.findByToken(token);
    if (!subscription) throw ApiError.notFound('This unsubscribe link');
    return { subscription, locale: await this.localeOf(subscription.recipientId) };
  }

  /**
   * One-click unsubscribe (RFC 8058): effective for every mail not yet sent (the worker reads the
   * row before sending). Repeating it changes nothing and answers the same. The answer is stored
   * under the request's Idempotency-Key, if any, in the same transaction.
   */
  async unsubscribe(
    token: string,
    source: SubscriptionSource,
  ): Promise<{ unsubscribed: UnsubscribedDto; locale: Locale }> {
    const { subscription, locale } = await this.byToken(token);
    const unsubscribed = await this.dataSource.transaction(async (manager) => {
      const { subscription: now } = await this.setWithin(
        manager,
        subscription.recipientId,
        subscription.category,
        false,
        source,
      );
      const body = this.mapper.toUnsubscribed(now);
      await this.idempotency.storeWithin(manager, 200, body);
      return body;
    });
    return { unsubscribed, locale };
  }

  /**
   * The mailto unsubscribe, inside the transaction that records the inbound message: null when
   * the token names no subscription.
   */
  async unsubscribeByTokenWithin(
    manager: EntityManager,
    token: string,
    source: SubscriptionSource,
  ): Promise<{ subscription: Subscription; changed: boolean } | null> {
    const rows: Subscription[] = await manager.query(
      `SELECT ${COLUMNS} FROM subscription WHERE unsubscribe_token = $1`,
      [token],
    );
    if (!rows.length) return null;
    return this.setWithin(manager, rows[0].recipientId, rows[0].category, false, source);
  }

  private async setWithin(
    manager: EntityManager,
    recipientId: string,
    category: string,
    subscribed: boolean,
    source: SubscriptionSource,
  ): Promise<{ subscription: Subscription; changed: boolean }> {
    const result = await this.subscriptions.setEmail(manager, recipientId, category, subscribed, source);
    if (result.changed && !subscribed)
      await this.events.append(manager, [
        { type: RECIPIENT_UNSUBSCRIBED, data: { recipientId, category, channel: 'EMAIL', source } },
      ]);
    return result;
  }

  /** Services and admins manage anyone's; a person only their own (another's is not found, as a 404). */
  private assertMayManage(recipientId: string): void {
    const caller = currentCaller();
    if (seesEverything(caller) || (caller.kind === 'person' && caller.id === recipientId)) return;
    throw ApiError.notFound(`Subscriptions of recipient ${recipientId}`);
  }

  /** The receiver's locale: the directory table's, else the HTTP directory's, else French. */
  private async localeOf(recipientId: string): Promise<Locale> {
    const known =
      (await this.recipients.findById(recipientId))?.locale ??
      (await this.directory.lookUp(recipientId).catch(() => null))?.locale ??
      null;
    return LOCALES.find((locale) => locale === known) ?? DEFAULT_LOCALE;
  }
}
