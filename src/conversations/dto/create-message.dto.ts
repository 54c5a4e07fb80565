import { ApiProperty } from '@nestjs/swagger';
import { Allow, IsEnum, IsNotEmpty, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { MultiLine } from '../../common/validation/text-input';
import { ContentType, TransmitterType } from '../message.entity';

/** What a message is made of, whoever sends it; `transmitterId` is declared by each use. */
export abstract class MessageFieldsDto {
  /** Who it is for; by default the other side (the customer ⇄ the assigned agent). Must be another participant. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  receiverId?: string;

  /**
   * By default CUSTOMER when the transmitter is the customer, else AGENT. A person's is their role
   * in the conversation (another value is 403); only services post SYSTEM messages.
   */
  @IsOptional()
  @IsEnum(TransmitterType)
  transmitterType?: TransmitterType;

  /**
   * The text, or an http(s) URL for IMAGE_URL and FILE_URL. HTML is stored as sent: clients must
   * sanitise it before display.
   * @example "Bonjour, le départ est-il maintenu ?"
   */
  @IsString()
  @Length(1, 10_000)
  @MultiLine()
  content: string;

  /** TEXT by default. */
  @IsOptional()
  @IsEnum(ContentType)
  contentType?: ContentType;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String })
  id?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String })
  conversationId?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String, format: 'date-time' })
  sendingDate?: unknown;

  /** Read-only: SENT at creation, then moved by PATCH; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String })
  status?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String, format: 'date-time', nullable: true })
  receivedDate?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: String })
  correlationId?: unknown;

  /** Read-only: set by the service; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: 'array', items: { type: 'object' } })
  links?: unknown;
}

/** A message posted to a conversation. */
export class CreateMessageDto extends MessageFieldsDto {
  /**
   * Who writes it: must be a participant of the conversation (403 otherwise). A person writes as
   * the sub of their token (the default; another value is 403); a service must name one (400 otherwise).
   * @example customer-42
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  transmitterId?: string;
}

/** The first message of a new conversation (`lastMessage` of the creation). */
export class FirstMessageDto extends MessageFieldsDto {
  /** Who writes it; the customer by default, a person's own sub for a person (another value is 403). Must be a participant (403 otherwise). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  transmitterId?: string;
}
