import { Injectable } from '@nestjs/common';
import { Caller, seesEverything } from '../auth/caller';

/**
 * The files a caller may read: every one (services, admins), or a person's own uploads. A look-up
 * puts it in its WHERE, so another person's file is simply not found (404). (Files reached through
 * a message of a conversation come with attachments.)
 */
export type FileScope = { all: true } | { all: false; uploaderId: string | null };

@Injectable()
export class FilePolicy {
  scope(caller: Caller): FileScope {
    if (seesEverything(caller)) return { all: true };
    return { all: false, uploaderId: caller.kind === 'person' ? caller.id : null };
  }
}
