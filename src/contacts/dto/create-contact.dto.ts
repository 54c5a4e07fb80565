import { ApiProperty } from '@nestjs/swagger';
import { Allow, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { LOCALES } from '../../mails/mail-category';

/** One line of visible text: it ends up in a mail subject, so no line break nor control character. */
const SINGLE_LINE = /^[^\u0000-\u0008\u000a-\u001f\u007f]*$/;
const NOT_BLANK = /\S/;
/** A plain address: nothing a mail header could read as a second address, a comment or a display name. */
const PLAIN_ADDRESS = /^[^\s"(),:;<>[\\\]]+@[^\s"(),:;<>[\\\]]+$/;

/** A message to the support team: a new thread, or a reply in one (`conversationId`). */
export class CreateContactDto {
  /**
   * Name of the person writing.
   * @example Camille Martin
   */
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: '$property must not be blank' })
  @Matches(SINGLE_LINE, { message: '$property must be a single line without control characters' })
  name: string;

  /**
   * Address of the person writing; the answers of the thread are sent there.
   * @example camille.martin@example.com
   */
  @IsEmail()
  @MaxLength(254)
  @Matches(PLAIN_ADDRESS, { message: '$property must be a plain address (name@domain)' })
  mail: string;

  /**
   * Subject of the message.
   * @example Question about my booking
   */
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: '$property must not be blank' })
  @Matches(SINGLE_LINE, { message: '$property must be a single line without control characters' })
  object: string;

  /**
   * The message itself (plain text; line breaks are kept).
   * @example Hello, can I bring my dog on the trip?
   */
  @IsString()
  @Length(1, 10_000)
  @Matches(NOT_BLANK, { message: '$property must not be blank' })
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
   * The thread to reply in: the id of its first message. Absent for a new thread (404 when the
   * thread does not exist).
   */
  @IsOptional()
  @IsString()
  conversationId?: string;

  /** Language of the mails sent to the writer (acknowledgement, answers); French by default. */
  @IsOptional()
  @IsIn(LOCALES)
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
