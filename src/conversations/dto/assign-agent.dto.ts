import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class AssignAgentDto {
  /**
   * The agent now in charge; joins the participants.
   * @example agent-7
   */
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  assignedAgentId: string;
}
