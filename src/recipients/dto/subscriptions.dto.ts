import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsDefined } from 'class-validator';
import { LinkDto } from '../../common/links/link.dto';

/** How a preference was last changed (contract A3). */
export const SUBSCRIPTION_SOURCES = ['API', 'ONE_CLICK', 'PAGE', 'MAILTO'] as const;

export class EmailSubscriptionDto {
  /** Whether mails of this category are sent to the receiver by email. */
  subscribed: boolean;
  /**
   * When the preference was last changed; null while it never was (subscribed by default).
   * @example "2026-12-07T10:15:00.000Z"
   */
  @ApiProperty({ type: String, nullable: true })
  changedAt: string | null;
  /**
   * How it was last changed: `API` (this API), `ONE_CLICK` (a mail client's one-click unsubscribe),
   * `PAGE` (the button of the unsubscribe page), `MAILTO` (a mail to the unsubscribe address).
   */
  @ApiProperty({ enum: SUBSCRIPTION_SOURCES, enumName: 'SubscriptionSource', nullable: true })
  source: (typeof SUBSCRIPTION_SOURCES)[number] | null;
}

export class CategorySubscriptionDto {
  /** A `SUBSCRIPTION` category (see `kind` in `GET /v1/templates/{category}`). */
  @ApiProperty({ example: 'PROFILE_COMPLETION_REQUEST' })
  category: string;
  email: EmailSubscriptionDto;
}

export class SubscriptionsDto {
  /** @example "user-123" */
  recipientId: string;
  /** Every `SUBSCRIPTION` category, in the catalog's order. */
  categories: CategorySubscriptionDto[];
  links: LinkDto[];
}

export class PutSubscriptionDto {
  /** Send mails of this category by email (`false`: unsubscribed). */
  @IsDefined()
  @IsBoolean()
  @ApiProperty({ example: false })
  email: boolean;
}

/** The answer of a one-click unsubscribe. */
export class UnsubscribedDto {
  /** @example "PROFILE_COMPLETION_REQUEST" */
  category: string;
  /** Always false: no mail of this category is sent to the receiver any more (those not sent yet included). */
  @ApiProperty({ example: false })
  subscribed: boolean;
  /**
   * When the receiver unsubscribed (the first time: repeating it changes nothing).
   * @example "2026-12-07T10:15:00.000Z"
   */
  @ApiProperty({ type: String, nullable: true })
  changedAt: string | null;
  links: LinkDto[];
}
