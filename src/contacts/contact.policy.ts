import { Injectable } from '@nestjs/common';
import { Caller, seesEverything } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';

/**
 * The threads a caller may read: every one, or those a person opened under their own id. A look-up
 * puts it in its WHERE, so another person's thread is simply not found (404).
 */
export type ContactScope = { all: true } | { all: false; openerId: string | null };

/**
 * Who may do what with contact threads, in one place. Anyone may write (even without a token);
 * services, admins and the person who opened a thread may read it.
 */
@Injectable()
export class ContactPolicy {
  scope(caller: Caller): ContactScope {
    if (seesEverything(caller)) return { all: true };
    // A caller without an id (anonymous) opened no thread that can be told apart: they read none.
    return { all: false, openerId: caller.kind === 'person' ? caller.id : null };
  }

  /** A person writes under their own id (the default when they send none); another id is 403. */
  transmitterFor(caller: Caller, given: string | undefined): string | undefined {
    if (caller.kind !== 'person') return given;
    if (given !== undefined && given !== caller.id) throw ApiError.forbidden('transmitterId must be your own id (the sub of your token).');
    return caller.id!;
  }
}
