import { ClsServiceManager } from 'nestjs-cls';

/**
 * Who is calling, as far as the shared layer needs to know. The auth guard (src/auth) establishes
 * the whole caller (auth/caller.ts: roles, establishments) and keeps it in the request's CLS
 * context under CALLER_KEY; what is shared, such as whose Idempotency-Key a request uses, reads
 * this part of it.
 */
export interface CallerIdentity {
  kind: 'anonymous' | 'service' | 'person';
  /** API key name for a service, token `sub` for a person; null when anonymous or when AUTH_MODE=off. */
  id: string | null;
}

/** Where the auth guard keeps the caller in the request's CLS context. */
export const CALLER_KEY = 'caller';

/** The caller the auth guard put in the request context; undefined outside a request or before the guard ran. */
export function requestCaller<T extends CallerIdentity = CallerIdentity>(): T | undefined {
  const cls = ClsServiceManager.getClsService();
  return cls.isActive() ? (cls.get(CALLER_KEY) as T | undefined) : undefined;
}
