import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { routeAccess } from '../auth/access.decorator';
import { currentCaller } from '../auth/caller';
import { rateLimitHeaders, RateLimits } from './rate-limits';

/**
 * RATE_LIMIT_PER_MINUTE for every request but the probes, after the auth guard has named the
 * caller: RateLimit-* headers on every answer, 429 with Retry-After past the limit.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limits: RateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http' || routeAccess(this.reflector, context).probe) return true;
    const http = context.switchToHttp();
    const state = await this.limits.consumeRequest(currentCaller(), http.getRequest<FastifyRequest>().ip);
    if (state) void http.getResponse<FastifyReply>().headers(rateLimitHeaders(state));
    return true;
  }
}
