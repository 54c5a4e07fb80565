import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsEnum,
  IsIn,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  registerDecorator,
} from 'class-validator';
import { ArrayDistinct } from '../../common/validation/array-rules';
import { LOCALES, MAIL_CATEGORIES, MailCategory, ProductType } from '../../catalog/mail-category';
import { CALLER_CATEGORIES } from '../../catalog/mail-catalog';
import { IsMailVariables } from './mail-variables.validator';
import { VariableValue } from '../../catalog/mail-variables';

/** One of the categories callers may post; a category the service sends itself is named as such. */
function IsCallerCategory(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCallerCategory',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => CALLER_CATEGORIES.includes(value as MailCategory),
        defaultMessage: (args) => {
          const own = MAIL_CATEGORIES.includes(args?.value as MailCategory)
            ? `${String(args?.value)} is sent by the service itself, not by callers; `
            : '';
          return `${args?.property ?? 'category'} ${own}must be one of the following values: ${CALLER_CATEGORIES.join(', ')}`;
        },
      },
    });
}

/** A mail event posted by another service. */
export class CreateMailDto {
  /**
   * User ids of the receivers (resolved to addresses at delivery time), 1 to 1000, distinct.
   * @example ["user-42"]
   */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ArrayDistinct()
  @ApiProperty({ uniqueItems: true })
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(255, { each: true })
  receiversId: string[];

  /**
   * Which mail to send; some categories require ids (see the table of the contract). The
   * categories the service sends itself (CONVERSATION_UNREAD_MESSAGES) are not accepted here.
   */
  @IsCallerCategory()
  @ApiProperty({ enum: CALLER_CATEGORIES, example: 'CLIENT_TRIP_BOOKING_NOTIFICATION' })
  category: MailCategory;

  /**
   * Technical id of a trip publication.
   * @example PUB-2048
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  publicationId?: string;

  /**
   * Technical id of a reservation.
   * @example RES-2027-0042
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  reservationId?: string;

  @IsOptional()
  @IsEnum(ProductType)
  productType?: ProductType;

  /** Technical id of an organization. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  organizationId?: string;

  /** Technical id of an establishment. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  establishmentId?: string;

  /**
   * Values merged into the template: only the variables the category declares
   * (`GET /v1/templates/{category}`), at most 50 keys; string, number or boolean values of at most
   * 2,000 characters, or `{amount, currency}` for a `money` variable.
   * @example {"tripTitle": "Randonnée dans les Calanques", "departureDate": "2027-05-14", "amount": {"amount": 480, "currency": "EUR"}}
   */
  @IsOptional()
  @IsMailVariables()
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: {
      oneOf: [
        { type: 'string' },
        { type: 'number' },
        { type: 'boolean' },
        {
          type: 'object',
          required: ['amount', 'currency'],
          additionalProperties: false,
          properties: {
            amount: { type: 'number' },
            currency: { type: 'string', pattern: '^[A-Z]{3}$', example: 'EUR' },
          },
        },
      ],
    },
  })
  variables?: Record<string, VariableValue>;

  /** Language of the mail for every receiver; when absent, each receiver's own, else French. */
  @IsOptional()
  @IsIn(LOCALES)
  @ApiPropertyOptional({ enum: LOCALES })
  locale?: 'fr' | 'en';

  /** Send at this time (ISO 8601, in the future) rather than at once; the mail is SCHEDULED until then. */
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  scheduledAt?: string;

  /** Render and record the deliveries, but send nothing. */
  @IsOptional()
  @IsBoolean()
  testMode?: boolean;

  /**
   * Send even to receivers who unsubscribed from this SUBSCRIPTION category (without it their
   * deliveries end FAILED with `UNSUBSCRIBED`); never past the suppression list. For services and
   * admins only (403 for anyone else); the mail records it with the caller (`forcedBy`).
   */
  @IsOptional()
  @IsBoolean()
  forceSending?: boolean;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String })
  id?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String, format: 'date-time', nullable: true })
  sendingDate?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: 'array', items: { type: 'object' } })
  links?: unknown;
}
