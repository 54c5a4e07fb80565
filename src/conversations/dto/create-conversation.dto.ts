import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsEnum,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { ConversationStatus } from '../conversation.entity';
import { FirstMessageDto } from './create-message.dto';

export const MAX_PARTICIPANTS = 100;

/** The writable fields of a conversation, the same on creation and on PUT. */
export abstract class ConversationFieldsDto {
  /** @example TRIP-2048 */
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  tripPublicationId: string;

  /** @example VOY-2027-0514 */
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  tripReference: string;

  /** @example EST-34 */
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  establishmentId: string;

  /** @example customer-42 */
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  customerId: string;

  /** The agent currently in charge; absent or null: nobody yet. Joins the participants. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  @ApiProperty({ required: false, type: String, nullable: true })
  assignedAgentId?: string | null;

  /**
   * Other users involved; the customer and the assigned agent are always added by the service.
   * @example ["agent-7"]
   */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_PARTICIPANTS)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(255, { each: true })
  participants?: string[];

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String, format: 'uuid' })
  id?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String, format: 'date-time' })
  createdAt?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String, format: 'date-time' })
  updatedAt?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: 'array', items: { type: 'object' } })
  links?: unknown;
}

/** A new conversation, optionally with its first message. */
export class CreateConversationDto extends ConversationFieldsDto {
  /** OPEN by default. */
  @IsOptional()
  @IsEnum(ConversationStatus)
  status?: ConversationStatus;

  /** Stored as the first message of the conversation. */
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => FirstMessageDto)
  lastMessage?: FirstMessageDto;
}
