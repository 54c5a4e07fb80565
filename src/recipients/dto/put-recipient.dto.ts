import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsPlainEmail } from '../../common/validation/plain-email';
import { LOCALES } from '../../catalog/mail-category';

export class PutRecipientDto {
  /**
   * Where mails to this receiver go.
   * @example camille.martin@example.com
   */
  @IsPlainEmail()
  @ApiProperty({ format: 'email', maxLength: 254 })
  email: string;

  /** @example Camille */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  firstName?: string;

  /** @example Martin */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  lastName?: string;

  /** Language of this receiver's mails when the event names none. */
  @IsOptional()
  @IsIn(LOCALES)
  @ApiProperty({ enum: LOCALES, required: false })
  locale?: 'fr' | 'en';
}
