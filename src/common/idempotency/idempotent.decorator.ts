import { UseGuards } from '@nestjs/common';
import { IdempotencyGuard } from './idempotency.guard';

/**
 * On every POST route: `Idempotency-Key` is honoured (IdempotencyGuard). Put on the routes rather
 * than made global, so that the other routes do not pay for it; a test checks that no POST route
 * goes without it. Its `Idempotency-Key` parameter is added to every POST of the OpenAPI document
 * by openapi-contract.ts.
 */
export const Idempotent = (): MethodDecorator => UseGuards(IdempotencyGuard);
