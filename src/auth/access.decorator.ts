import { applyDecorators, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiSecurity } from '@nestjs/swagger';
import { Role } from './caller';

/** A kind of caller a route admits: any service (API key), or a person holding this role. */
export type Audience = 'service' | Role;

export interface RouteAccess {
  /** Who may call the route; `anyone` includes callers without a token. */
  callers: readonly Audience[] | 'anyone';
  /** A probe (health): no token is looked at and no rate limit applies. */
  probe: boolean;
}

const ACCESS_KEY = 'communication:access';

/** The name of the security scheme in the OpenAPI document (an API key or a JWT, both as Bearer). */
export const BEARER_SCHEME = 'bearer';

/**
 * What a route that declares nothing admits: services and admins. Mails, recipients, templates,
 * metrics (and later webhooks, suppressions) rely on it, so a new route is closed until it says
 * otherwise.
 */
export const SERVICES_AND_ADMINS: RouteAccess = Object.freeze({
  callers: Object.freeze(['service', 'admin'] as const),
  probe: false,
});

/** The route admits these callers (the resource's policy may narrow what each one sees). */
export const Access = (...callers: Audience[]): MethodDecorator & ClassDecorator =>
  SetMetadata<string, RouteAccess>(ACCESS_KEY, { callers, probe: false });

/** Anyone, even without a token; a token that is sent is still verified (401 when it is not valid). */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata<string, RouteAccess>(ACCESS_KEY, { callers: 'anyone', probe: false }),
    ApiSecurity({}),
    ApiSecurity(BEARER_SCHEME),
  );

/** A health probe: open, never rate limited, whatever the caller sends. */
export const Probe = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata<string, RouteAccess>(ACCESS_KEY, { callers: 'anyone', probe: true }), ApiSecurity({}));

const QUERY_TOKEN_KEY = 'communication:query-token';

/**
 * The route also takes the token as `?access_token=` (browsers' EventSource cannot send headers);
 * only the two event streams declare it, and the request log redacts it.
 */
export const QueryToken = (): MethodDecorator => SetMetadata(QUERY_TOKEN_KEY, true);

export function acceptsQueryToken(reflector: Reflector, context: ExecutionContext): boolean {
  return reflector.get<boolean | undefined>(QUERY_TOKEN_KEY, context.getHandler()) === true;
}

/** The access the handler declares, else its controller, else services and admins. */
export function routeAccess(reflector: Reflector, context: ExecutionContext): RouteAccess {
  return (
    reflector.getAllAndOverride<RouteAccess | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]) ??
    SERVICES_AND_ADMINS
  );
}
