import { ApiProperty } from '@nestjs/swagger';
import { Allow, IsIn, IsNotEmpty, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { IsPlainEmail } from '../../common/validation/plain-email';
import { MultiLine } from '../../common/validation/text-input';
import { LOCALES } from '../../catalog/mail-category';

// `name` and `object` end up in a mail subject: the shared text rule keeps line breaks out of them.
const NOT_BLANK = /\S/;

/** A message to the support team: a new thread, or a reply in one (`conversationId`). */
export class CreateContactDto {
  /**
   * Name of the person writing.
   * @example "Camille Martin"
   */
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: '$property must not be blank' })
  name: string;

  /**
   * Address of the person writing. The one of a new thread receives the answers of the thread; the
   * one of a reply is shown in the thread but receives nothing.
   * @example camille.martin@example.com
   */
  @IsPlainEmail()
  @ApiProperty({ format: 'email', maxLength: 254 })
  mail: string;

  /**
   * Subject of the message.
   * @example "Question about my booking"
   */
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: '$property must not be blank' })
  object: string;

  /**
   * The message itself (plain text; line breaks are kept).
   * @example "Hello, can I bring my dog on the trip?"
   */
  @IsString()
  @Length(1, 10_000)
  @Matches(NOT_BLANK, { message: '$property must not be blank' })
  @MultiLine()
  message: string;

  /** Id of the connected user who writes, if any. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  transmitterId?: string;

  /** Id of the user the message is meant for, if any. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  receiverId?: string;

  /**
   * The thread to reply in: the id of its first message. Absent for a new thread. 404 when the
   * thread does not exist or the caller is not part of it (only its transmitter, services and
   * admins reply).
   */
  @IsOptional()
  @IsString()
  conversationId?: string;

  /** Language of the mails sent to the writer (acknowledgement, answers); French by default. */
  @IsOptional()
  @IsIn(LOCALES)
  @ApiProperty({ enum: LOCALES, required: false })
  locale?: 'fr' | 'en';

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String })
  id?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String, format: 'date-time' })
  sendingDate?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: 'array', items: { type: 'object' } })
  links?: unknown;
}
