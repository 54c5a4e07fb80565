import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { attachRequestContext, RawRequest } from '../correlation/correlation';
import { IdempotentReplay } from '../idempotency/idempotency.service';
import { toErrorResponse } from './error-body.factory';

/**
 * The one exception filter: every failure leaves as the contract's error body, never a stack trace.
 * It also sends an IdempotentReplay, the stored answer of a repeated Idempotency-Key.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // Also reached by what Fastify refuses before routing (bad JSON, size limit): Nest hands its errors here.
    const context = attachRequestContext(request.raw as RawRequest);
    if (error instanceof IdempotentReplay) {
      // Not a failure: the answer first given to this Idempotency-Key, given again.
      void reply
        .status(error.status)
        .headers({ ...error.headers, 'x-correlation-id': context.correlationId })
        .send(error.body);
      return;
    }
    const response = toErrorResponse(
      error,
      context.correlationId,
      this.config.http.publicBaseUrl ?? context.requestBaseUrl,
    );
    if (response.unexpected) {
      this.logger.error({ err: error, correlationId: context.correlationId }, 'Unexpected error');
    }
    void reply
      .status(response.status)
      .headers({ ...response.headers, 'x-correlation-id': context.correlationId })
      .type('application/json; charset=utf-8')
      .send(response.body);
  }
}
