import { ApiProperty } from '@nestjs/swagger';
import { Allow, IsEnum, IsOptional } from 'class-validator';
import { ConversationStatus } from '../conversation.entity';
import { ConversationFieldsDto } from './create-conversation.dto';

/**
 * The whole writable state of a conversation: absent `assignedAgentId` and `participants` are
 * reset (to none, the customer and agent being kept by the service); an absent `status` is kept.
 */
export class ReplaceConversationDto extends ConversationFieldsDto {
  /** OPEN ⇄ CLOSED, OPEN or CLOSED → ARCHIVED; an archived conversation no longer changes. Absent: unchanged. */
  @IsOptional()
  @IsEnum(ConversationStatus)
  status?: ConversationStatus;

  /** Read-only: follows the messages; accepted and ignored. */
  @Allow()
  @ApiProperty({ readOnly: true, required: false, type: Object })
  lastMessage?: unknown;
}
