import { Injectable } from '@nestjs/common';
import { Caller, seesEverything } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';
import { ConversationEntity } from './conversation.entity';

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
 * manage (replace, assign an agent). People write in their own name (`actingId`).
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
  assertCanManage(caller: Caller, conversation: Pick<ConversationEntity, 'establishmentId'>, nextEstablishmentId = conversation.establishmentId): void {
    if (!this.canManage(caller, conversation) || !this.canManage(caller, { establishmentId: nextEstablishmentId })) {
      throw ApiError.forbidden('Only the agents of its establishment, admins and services may change this conversation or assign its agent.');
    }
  }

  canManage(caller: Caller, conversation: Pick<ConversationEntity, 'establishmentId'>): boolean {
    return seesEverything(caller) || (caller.roles.includes('agent') && caller.establishments.includes(conversation.establishmentId));
  }

  /**
   * What belongs to a participant (their unread counts, their event stream): services and admins
   * any, a person only their own `sub`; another id answers 404, so ids cannot be probed.
   */
  assertSeesParticipant(caller: Caller, participantId: string): void {
    if (seesEverything(caller) || (caller.kind === 'person' && caller.id === participantId)) return;
    throw ApiError.notFound(`Participant ${participantId}`);
  }

  /** A person opens a conversation of their own (customer) or of one of their establishments (agent). */
  assertCanCreate(caller: Caller, conversation: Pick<ConversationEntity, 'customerId' | 'establishmentId'>): void {
    if (this.canManage(caller, conversation) || (caller.roles.includes('customer') && conversation.customerId === caller.id)) return;
    throw ApiError.forbidden('A person may open a conversation only as its customer, or for one of the establishments they work for.');
  }
}
