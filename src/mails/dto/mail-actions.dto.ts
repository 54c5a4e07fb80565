import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEnum,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { MailCategory } from '../../catalog/mail-category';

/** PATCH /v1/mails/{id}: a new time for a scheduled mail. */
export class RescheduleMailDto {
  /**
   * The new time (ISO 8601, in the future).
   * @example "2030-05-14T08:00:00.000Z"
   */
  @IsISO8601({ strict: true, strictSeparator: true })
  scheduledAt: string;
}

/** POST /v1/mails/cancellations: which mails to cancel (at least one id). */
export class CancelMailsDto {
  /** @example "RES-2027-0042" */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  reservationId?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  publicationId?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  organizationId?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  establishmentId?: string;

  /** Mails that have this receiver (the whole mail is cancelled). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  receiverId?: string;

  /** Only mails of these categories. */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(19)
  @IsEnum(MailCategory, { each: true })
  categories?: MailCategory[];
}
