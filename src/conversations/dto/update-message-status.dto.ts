import { IsEnum } from 'class-validator';
import { MessageStatus } from '../message.entity';

export class UpdateMessageStatusDto {
  /** Only forward: SENT → DELIVERED → READ (409 otherwise). */
  @IsEnum(MessageStatus)
  status: MessageStatus;
}
