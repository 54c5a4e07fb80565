import { IsEnum, IsISO8601, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/pagination/page.dto';
import { MailCategory } from '../../catalog/mail-category';
import { MailStatus } from '../mail-status';

export class ListMailsQueryDto extends PageQueryDto {
  @IsOptional()
  @IsEnum(MailCategory)
  category?: MailCategory;

  @IsOptional()
  @IsEnum(MailStatus)
  status?: MailStatus;

  /** Mails that have this receiver. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  receiverId?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  publicationId?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  reservationId?: string;

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

  /** Created at or after this instant (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Created before this instant (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;

  /** Where the previous page ended: set by the `next` link (opaque; follow the link as given). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}
