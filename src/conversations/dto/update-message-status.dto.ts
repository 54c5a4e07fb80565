import { IsEnum } from 'class-validator';
import { MessageStatus } from '../message.entity';

export class UpdateMessageStatusDto {
  /**
   * Only forward: SENT → DELIVERED → READ (409 otherwise).
   * @example READ
   */
  @IsEnum(MessageStatus)
  status: MessageStatus;
}
