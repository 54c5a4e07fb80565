import { Injectable } from '@nestjs/common';
import { Caller, seesEverything } from '../auth/caller';

/**
 * The threads a caller may read: every one, or those a person opened under their own id. A look-up
 * puts it in its WHERE, so another person's thread is simply not found (404).
 */
export type ContactScope = { all: true } | { all: false; openerId: string | null };

/**
 * Who may read contact threads: services, admins and the person who opened a thread. Anyone may
 * write (even without a token), a person under their own id (`actingId`).
 */
@Injectable()
export class ContactPolicy {
  scope(caller: Caller): ContactScope {
    if (seesEverything(caller)) return { all: true };
    // A caller without an id (anonymous) opened no thread that can be told apart: they read none.
    return { all: false, openerId: caller.kind === 'person' ? caller.id : null };
  }
}
