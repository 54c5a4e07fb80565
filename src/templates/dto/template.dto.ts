import { ApiProperty } from '@nestjs/swagger';
import { LinkDto } from '../../common/links/link.dto';
import { VariableType } from '../../catalog/mail-catalog';
import { CategoryKind, MailCategory, MailReferenceField } from '../../catalog/mail-category';

// Listed in full: the Swagger plugin writes a union's values in the order the compiler happened to
// meet them, which differs from one build to the next.
const VARIABLE_TYPES = ['string', 'number', 'date', 'money', 'boolean'] as const satisfies readonly VariableType[];
const REFERENCE_FIELDS = [
  'publicationId',
  'reservationId',
  'organizationId',
  'establishmentId',
] as const satisfies readonly MailReferenceField[];

export class MoneyExampleDto {
  /** @example 480 */
  amount: number;
  /** @example "EUR" */
  currency: string;
}

export class TemplateVariableDto {
  /** Key in the mail's `variables`. @example "departureDate" */
  name: string;
  /** `date`: ISO 8601; `money`: `{amount, currency}` or a number in euros. Both written for the receiver's locale. */
  @ApiProperty({ enum: VARIABLE_TYPES })
  type: VariableType;
  /** A mail of this category without it is refused (400). */
  required: boolean;
  description: string;
  /** A value as a sender would post it; the preview uses it. */
  @ApiProperty({
    oneOf: [
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
      {
        type: 'object',
        required: ['amount', 'currency'],
        properties: { amount: { type: 'number' }, currency: { type: 'string', example: 'EUR' } },
      },
    ],
  })
  example: string | number | boolean | MoneyExampleDto;
}

export class TemplateSubjectDto {
  /** Rendered with the example values. */
  fr: string;
  en: string;
}

export class TemplateDto {
  category: MailCategory;
  /**
   * `SUBSCRIPTION`: a reminder or digest the receiver may refuse (one-click unsubscribe, preferences
   * under `/v1/recipients/{recipient-id}/subscriptions`); `TRANSACTIONAL`: follows from something the
   * receiver did or owns, always sent.
   */
  @ApiProperty({ enum: CategoryKind, enumName: 'CategoryKind' })
  kind: CategoryKind;
  /** Ids a mail event of this category must carry. */
  @ApiProperty({ enum: REFERENCE_FIELDS, isArray: true })
  requiredIds: MailReferenceField[];
  /** The only names a mail of this category may put in `variables`. */
  variables: TemplateVariableDto[];
  /** The subject in each locale, rendered with the example values. */
  subject: TemplateSubjectDto;
  /** Path under FRONTEND_BASE_URL that the mail's button opens; null when the mail has no button (contact mails). */
  buttonPath: string | null;
  links: LinkDto[];
}

export class TemplateListDto {
  content: TemplateDto[];
  links: LinkDto[];
}
