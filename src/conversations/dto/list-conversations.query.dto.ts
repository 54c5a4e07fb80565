import { IsEnum, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageOfThreeQueryDto } from '../../common/pagination/page.dto';
import { ConversationStatus } from '../conversation.entity';

export class ListConversationsQueryDto extends PageOfThreeQueryDto {
  /** Conversations about this establishment. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  establishmentId?: string;

  /** Conversations of this customer. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  customerId?: string;

  /** Conversations this agent is in charge of. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  assignedAgentId?: string;

  /** Conversations this person takes part in; each then shows their `unreadCount`. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  participantId?: string;

  @IsOptional()
  @IsEnum(ConversationStatus)
  status?: ConversationStatus;
}
