import { Injectable } from '@nestjs/common';
import { MAIL_CATEGORIES, SUBSCRIPTION_CATEGORIES } from '../catalog/mail-category';
import { LinksBuilder } from '../common/links/links.builder';
import { SubscriptionsDto, UnsubscribedDto } from './dto/subscriptions.dto';
import { Subscription } from './subscription.repository';

/** The SUBSCRIPTION categories in the catalog's order. */
export const SUBSCRIPTION_CATEGORY_LIST: readonly string[] = MAIL_CATEGORIES.filter((c) =>
  SUBSCRIPTION_CATEGORIES.has(c),
);

@Injectable()
export class SubscriptionMapper {
  constructor(private readonly links: LinksBuilder) {}

  /** Every SUBSCRIPTION category; one without a row is subscribed and was never changed. */
  toDto(recipientId: string, rows: Subscription[]): SubscriptionsDto {
    const byCategory = new Map(rows.map((row) => [row.category, row]));
    const path = `/v1/recipients/${encodeURIComponent(recipientId)}/subscriptions`;
    return {
      recipientId,
      categories: SUBSCRIPTION_CATEGORY_LIST.map((category) => {
        const row = byCategory.get(category);
        return {
          category,
          email: {
            subscribed: row?.emailSubscribed ?? true,
            changedAt: row?.changedAt ? row.changedAt.toISOString() : null,
            source: row?.source ?? null,
          },
        };
      }),
      links: [
        this.links.link('self', 'GET', path, "Get this receiver's subscriptions"),
        ...SUBSCRIPTION_CATEGORY_LIST.map((category) =>
          this.links.link('subscription', 'PUT', `${path}/${category}`, `Set the email preference for ${category}`),
        ),
      ],
    };
  }

  toUnsubscribed(subscription: Subscription): UnsubscribedDto {
    return {
      category: subscription.category,
      subscribed: subscription.emailSubscribed,
      changedAt: subscription.changedAt ? subscription.changedAt.toISOString() : null,
      links: [
        this.links.link(
          'page',
          'GET',
          `/v1/unsubscribe/${subscription.unsubscribeToken}`,
          'The unsubscribe page',
          'text/html',
        ),
      ],
    };
  }
}
