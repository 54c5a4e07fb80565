import { ApiProperty } from '@nestjs/swagger';
import { IsEnum, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { LinkDto } from '../../common/links/link.dto';
import { PageDto, PageQueryDto } from '../../common/pagination/page.dto';

export enum SuppressionReason {
  /** The relay refused the address at RCPT TO (550, 551, 553), or a bounce reported it does not exist (5.1.x, 5.2.1). */
  HARD_BOUNCE = 'HARD_BOUNCE',
  /** Its receiver reported one of our mails as spam (a feedback report). */
  COMPLAINT = 'COMPLAINT',
  /** Added through PUT /v1/suppressions/{email}. */
  MANUAL = 'MANUAL',
}

export class SuppressionDto {
  /** The address, lower-cased. */
  email: string;
  reason: SuppressionReason;
  note: string | null;
  createdAt: string;
  /** The relay's reply of the last hard bounce (`550 5.1.1 No such user`); null for a manual entry. */
  lastBounce: string | null;
  links: LinkDto[];
}

export class SuppressionPageDto extends PageDto<SuppressionDto> {
  content: SuppressionDto[];
}

export class PutSuppressionDto {
  /**
   * Why the address is suppressed, for the people who read the list.
   * @example "Asked by phone to receive no more mails"
   */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string;
}

export class ListSuppressionsQueryDto extends PageQueryDto {
  /** Exactly this address (any case). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  @ApiProperty({ required: false, format: 'email' })
  email?: string;

  @IsOptional()
  @IsEnum(SuppressionReason)
  reason?: SuppressionReason;
}
