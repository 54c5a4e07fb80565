import { Injectable } from '@nestjs/common';
import { Caller, seesEverything } from '../auth/caller';
import type { ContactMessageEntity } from './contact-message.entity';

/**
 * The threads a caller may read: every one, or those a person opened under their own id. A look-up
 * puts it in its WHERE, so another person's thread is simply not found (404).
 */
export type ContactScope = { all: true } | { all: false; openerId: string | null };

/**
 * Who may read and reply in contact threads: services, admins (support's tools) and the person who
 * opened a thread under their id (its transmitterId). Anyone may open one (even without a token), a
 * person under their own id (`actingId`).
 */
@Injectable()
export class ContactPolicy {
  scope(caller: Caller): ContactScope {
    if (seesEverything(caller)) return { all: true };
    // A caller without an id (anonymous) opened no thread that can be told apart: they read none.
    return { all: false, openerId: caller.kind === 'person' ? caller.id : null };
  }

  /** A reply comes from someone of the thread: whoever may read it. */
  mayReply(caller: Caller, opener: ContactMessageEntity): boolean {
    const scope = this.scope(caller);
    return scope.all || (scope.openerId !== null && opener.transmitterId === scope.openerId);
  }

  /**
   * Whether a message of this caller counts against CONTACT_RATE_LIMIT_PER_HOUR: everyone's but
   * those of a service named by its API key and of an admin (support's tools). With AUTH_MODE=off
   * nobody is identified, so everyone counts.
   */
  countsAgainstLimits(caller: Caller): boolean {
    const identifiedService = caller.kind === 'service' && caller.id !== null;
    return !identifiedService && !(caller.kind === 'person' && caller.roles.includes('admin'));
  }
}
