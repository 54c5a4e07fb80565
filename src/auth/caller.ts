import { CallerIdentity, requestCaller } from '../common/context/request-caller';
import { ApiError } from '../common/errors/api-error';

export type Role = 'customer' | 'agent' | 'admin';

/**
 * Who is calling, as the auth guard established it: a service (API key), a person (JWT), or
 * nobody (a public endpoint, or AUTH_MODE=off). Policies decide from this alone. Kept in the
 * request context (common/context/request-caller.ts), whose identity part the shared layer reads.
 */
export interface Caller extends CallerIdentity {
  roles: Role[];
  /** Establishment ids an agent works for. */
  establishments: string[];
}

export const ANONYMOUS: Caller = Object.freeze({
  kind: 'anonymous',
  id: null,
  roles: [],
  establishments: [],
}) as Caller;

/** Every caller when AUTH_MODE=off: trusted like a service, with no name. */
export const UNCHECKED_SERVICE: Caller = Object.freeze({
  kind: 'service',
  id: null,
  roles: [],
  establishments: [],
}) as Caller;

/** A service, or a person holding the admin role: they may see and do everything. */
export function seesEverything(caller: Caller): boolean {
  return caller.kind === 'service' || (caller.kind === 'person' && caller.roles.includes('admin'));
}

/** The caller of the current request (anonymous outside a request or before the guard ran). */
export function currentCaller(): Caller {
  return requestCaller<Caller>() ?? ANONYMOUS;
}

/**
 * The id a caller acts under in a field such as `transmitterId`: a person always acts as their own
 * `sub` (the default when they send none; another value is 403), a service as whatever it names.
 */
export function actingId(caller: Caller, field: string, given: string | undefined): string | undefined {
  if (caller.kind !== 'person') return given;
  if (given !== undefined && given !== caller.id)
    throw ApiError.forbidden(`${field} must be your own id (the sub of your token).`);
  return caller.id!;
}
