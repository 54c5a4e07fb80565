import { CanActivate, ExecutionContext, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ClsService } from 'nestjs-cls';
import { CALLER_KEY } from '../common/context/request-caller';
import { ApiError } from '../common/errors/api-error';
import { AppConfig, InjectConfig } from '../config/app.config';
import { RateLimits } from '../rate-limit/rate-limits';
import { acceptsQueryToken, RouteAccess, routeAccess } from './access.decorator';
import { Authenticator, unauthorized } from './authenticator';
import { ANONYMOUS, Caller, UNCHECKED_SERVICE } from './caller';

/**
 * The one place that says who is calling (401 when a token is sent but stands for nobody, or none
 * is sent to a closed route) and whether that kind of caller may use the route at all (403). What
 * a caller may see inside a resource is the resource's policy, which reads the caller from CLS.
 * Each 401 counts against AUTH_FAILURE_LIMIT_PER_MINUTE of the client address; an address past it
 * is answered 429 before anything it sends is checked.
 */
@Injectable()
export class AuthGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly enabled: boolean;

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly cls: ClsService,
    private readonly limits: RateLimits,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.enabled = config.auth.mode === 'on';
  }

  onModuleInit(): void {
    if (!this.enabled && this.config.runMode !== 'worker') {
      this.logger.warn(
        'AUTH_MODE=off: access control is disabled and every request is trusted like a service. Never run so in production.',
      );
    }
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const access = routeAccess(this.reflector, context);
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (this.enabled && !access.probe) this.limits.assertAuthNotBlocked(request.ip);
    try {
      const caller = await this.identify(
        request,
        access,
        acceptsQueryToken(this.reflector, context) ? queryToken(request) : undefined,
      );
      this.cls.set(CALLER_KEY, caller);
      authorize(caller, access);
    } catch (error) {
      if (error instanceof ApiError && error.errorName === 'UNAUTHORIZED')
        throw (await this.limits.countAuthFailure(request.ip)) ?? error;
      throw error;
    }
    return true;
  }

  private async identify(request: FastifyRequest, access: RouteAccess, tokenInQuery?: string): Promise<Caller> {
    if (!this.enabled) return UNCHECKED_SERVICE;
    const authorization =
      request.headers.authorization ?? (tokenInQuery === undefined ? undefined : `Bearer ${tokenInQuery}`);
    if (access.probe || authorization === undefined) return ANONYMOUS;
    return this.authenticator.authenticate(authorization);
  }
}

/** `?access_token=` of a route that accepts it (the header wins when both are sent). */
function queryToken(request: FastifyRequest): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.access_token;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function authorize(caller: Caller, access: RouteAccess): void {
  if (access.callers === 'anyone') return;
  if (caller.kind === 'anonymous') {
    throw unauthorized('Authentication is required: send "Authorization: Bearer <API key or token>".', false);
  }
  const allowed =
    caller.kind === 'service'
      ? access.callers.includes('service')
      : caller.roles.some((role) => access.callers.includes(role));
  if (!allowed) {
    const who =
      caller.kind === 'service'
        ? 'a service'
        : caller.roles.length
          ? `the roles ${caller.roles.join(', ')}`
          : 'no role';
    throw ApiError.forbidden(`This operation is for ${access.callers.join(', ')}; the caller has ${who}.`);
  }
}
