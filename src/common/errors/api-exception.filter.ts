import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { attachRequestContext, RawRequest } from '../correlation/correlation';
import { toErrorResponse } from './error-body.factory';

/** The one exception filter: every failure leaves as the contract's error body, never a stack trace. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendError(error, request, reply, this.config, this.logger);
  }
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply, config: AppConfig, logger: Logger): void {
  const context = attachRequestContext(request.raw as RawRequest);
  const response = toErrorResponse(error, context.correlationId, config.http.publicBaseUrl ?? context.requestBaseUrl);
  if (response.unexpected) {
    logger.error({ err: error, correlationId: context.correlationId }, 'Unexpected error');
  }
  void reply
    .status(response.status)
    .headers({ ...response.headers, 'x-correlation-id': context.correlationId })
    .type('application/json; charset=utf-8')
    .send(response.body);
}
