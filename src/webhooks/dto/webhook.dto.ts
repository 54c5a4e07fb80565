import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsEnum,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { LinkDto } from '../../common/links/link.dto';
import { PageDto, PageQueryDto } from '../../common/pagination/page.dto';
import { OptionalNotNull } from '../../common/validation/not-null';
import { EVENT_TYPES, EventType } from '../../events/event-type';

export class CreateWebhookDto {
  /**
   * Where events are POSTed: `https` in production; never a loopback, private or link-local address
   * unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true.
   * @example https://example.com/hooks/communication
   */
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  @ApiProperty({ format: 'uri' })
  url: string;

  /** The events to receive. */
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @IsIn(EVENT_TYPES, { each: true })
  @ApiProperty({ enum: EVENT_TYPES, isArray: true, example: ['mail.sent', 'mail.failed'] })
  events: EventType[];

  /** @example Booking service: delivery outcomes */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class UpdateWebhookDto {
  @OptionalNotNull()
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  @ApiProperty({ format: 'uri', required: false })
  url?: string;

  @OptionalNotNull()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @IsIn(EVENT_TYPES, { each: true })
  @ApiProperty({ enum: EVENT_TYPES, isArray: true, required: false })
  events?: EventType[];

  /**
   * false stops the calls (events are still queued); true starts them again and clears the failure streak.
   * @example false
   */
  @OptionalNotNull()
  @IsBoolean()
  enabled?: boolean;

  /** null clears the description. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @ApiProperty({ required: false, type: String, nullable: true })
  description?: string | null;
}

export class WebhookDto {
  id: string;
  url: string;
  @ApiProperty({ enum: EVENT_TYPES, isArray: true })
  events: string[];
  description: string | null;
  enabled: boolean;
  /** Why the service disabled it (every call failed for 3 days); null otherwise. */
  disabledReason: string | null;
  /** Since when every call has failed; null while the last call succeeded. */
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
  links: LinkDto[];
}

export class CreatedWebhookDto extends WebhookDto {
  /** The signing secret (`whsec_…`): shown in this answer only, keep it. */
  secret: string;
}

export class WebhookPageDto extends PageDto<WebhookDto> {
  content: WebhookDto[];
}

export enum WebhookAttemptStatus {
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

export class WebhookDeliveryDto {
  /** The id of this attempt (for redelivery). */
  id: string;
  /** The `webhook-id` header of the event: the same on every attempt. */
  webhookId: string;
  type: string;
  attempt: number;
  status: WebhookAttemptStatus;
  /** The HTTP status answered; null when there was no answer (timeout, refused target, connection error). */
  responseStatus: number | null;
  durationMs: number;
  /** The start of the answer (at most 1,024 characters), or why there was none. */
  responseExcerpt: string | null;
  attemptedAt: string;
  links: LinkDto[];
}

export class WebhookDeliveryPageDto extends PageDto<WebhookDeliveryDto> {
  content: WebhookDeliveryDto[];
}

export class ListWebhookDeliveriesQueryDto extends PageQueryDto {
  @IsOptional()
  @IsEnum(WebhookAttemptStatus)
  status?: WebhookAttemptStatus;
}
