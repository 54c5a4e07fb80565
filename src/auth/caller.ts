import { ClsServiceManager } from 'nestjs-cls';

export type Role = 'customer' | 'agent' | 'admin';

/**
 * Who is calling, as the auth guard established it: a service (API key), a person (JWT), or
 * nobody (a public endpoint, or AUTH_MODE=off). Policies decide from this alone.
 */
export interface Caller {
  kind: 'anonymous' | 'service' | 'person';
  /** API key name for a service, token `sub` for a person, null when anonymous. */
  id: string | null;
  roles: Role[];
  /** Establishment ids an agent works for. */
  establishments: string[];
}

/** Where the guard keeps the caller in the request's CLS context. */
export const CALLER_KEY = 'caller';

export const ANONYMOUS: Caller = Object.freeze({ kind: 'anonymous', id: null, roles: [], establishments: [] }) as Caller;

/** The caller of the current request (anonymous outside a request or before the guard ran). */
export function currentCaller(): Caller {
  const cls = ClsServiceManager.getClsService();
  return (cls.isActive() ? cls.get<Caller | undefined>(CALLER_KEY) : undefined) ?? ANONYMOUS;
}
