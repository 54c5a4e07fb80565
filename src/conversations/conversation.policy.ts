import { Injectable } from '@nestjs/common';
import { Caller, seesEverything } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';
import { ConversationEntity } from './conversation.entity';
import { TransmitterType } from './message.entity';

/**
 * The conversations a caller may see: every one, or those matching either rule. Lists and
 * look-ups put it in their WHERE, so another person's conversation is simply not found (404).
 */
export type ConversationScope =
  | { all: true }
  | {
      all: false;
      /** A customer: conversations whose customerId is theirs or that list them as a participant. */
      personId: string | null;
      /** An agent: conversations of these establishments. */
      establishments: string[];
    };

const ALL: ConversationScope = Object.freeze({ all: true });

/**
 * Who may do what with conversations, in one place. Services and admins: everything. Customers:
 * their own conversations. Agents: the conversations of their establishments, which they also
 * manage (replace, assign an agent). People write in their own name (`actingId`) and role.
 */
@Injectable()
export class ConversationPolicy {
  scope(caller: Caller): ConversationScope {
    if (seesEverything(caller)) return ALL;
    return {
      all: false,
      personId: caller.roles.includes('customer') ? caller.id : null,
      establishments: caller.roles.includes('agent') ? caller.establishments : [],
    };
  }

  /**
   * Replacing a conversation and assigning its agent: agents of its establishment, admins and
   * services (a customer who sees it gets 403). An agent cannot move it to an establishment that
   * is not theirs either.
   */
  assertCanManage(
    caller: Caller,
    conversation: Pick<ConversationEntity, 'establishmentId'>,
    nextEstablishmentId = conversation.establishmentId,
  ): void {
    if (!this.canManage(caller, conversation) || !this.canManage(caller, { establishmentId: nextEstablishmentId })) {
      throw ApiError.forbidden(
        'Only the agents of its establishment, admins and services may change this conversation or assign its agent.',
      );
    }
  }

  canManage(caller: Caller, conversation: Pick<ConversationEntity, 'establishmentId'>): boolean {
    return (
      seesEverything(caller) ||
      (caller.roles.includes('agent') && caller.establishments.includes(conversation.establishmentId))
    );
  }

  /**
   * What belongs to a participant (their unread counts, their event stream, the unread counts of a
   * list): services and admins any, a person only their own `sub`. Another id is 403, as for a
   * `transmitterId`: it is the caller's own id they got wrong, not a resource to hide.
   */
  assertSeesParticipant(caller: Caller, participantId: string): void {
    if (seesEverything(caller) || (caller.kind === 'person' && caller.id === participantId)) return;
    throw ApiError.forbidden(
      `participantId must be your own id (the sub of your token); ${participantId.slice(0, 255)} is not.`,
    );
  }

  /**
   * The type of a person's message is who they are in the conversation: its customer writes as
   * CUSTOMER; an agent of its establishment, or an admin (support), as AGENT; any other participant
   * as CUSTOMER. Only services choose, SYSTEM included. Another type is 403, like another transmitterId.
   */
  transmitterTypeOf(
    caller: Caller,
    conversation: Pick<ConversationEntity, 'customerId' | 'establishmentId'>,
    given: TransmitterType | undefined,
    field: string,
  ): TransmitterType | undefined {
    if (caller.kind !== 'person') return given;
    const own =
      caller.id !== conversation.customerId && this.canManage(caller, conversation)
        ? TransmitterType.AGENT
        : TransmitterType.CUSTOMER;
    if (given !== undefined && given !== own) {
      throw ApiError.forbidden(
        `${field} must be ${own}: a person's messages carry their role in the conversation (only services post ${TransmitterType.SYSTEM} messages).`,
      );
    }
    return own;
  }

  /** A person opens a conversation of their own (customer) or of one of their establishments (agent). */
  assertCanCreate(caller: Caller, conversation: Pick<ConversationEntity, 'customerId' | 'establishmentId'>): void {
    if (
      this.canManage(caller, conversation) ||
      (caller.roles.includes('customer') && conversation.customerId === caller.id)
    )
      return;
    throw ApiError.forbidden(
      'A person may open a conversation only as its customer, or for one of the establishments they work for.',
    );
  }
}
