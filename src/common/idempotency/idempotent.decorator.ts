import { UseInterceptors } from '@nestjs/common';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * On every POST route: `Idempotency-Key` is honoured (IdempotencyInterceptor). Put on the routes
 * rather than made global, so that the other routes do not pay for an interceptor; a test checks
 * that no POST route goes without it. Its `Idempotency-Key` parameter is added to every POST of the
 * OpenAPI document by openapi-contract.ts.
 */
export const Idempotent = (): MethodDecorator => UseInterceptors(IdempotencyInterceptor);
