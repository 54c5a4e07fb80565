import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, Observable } from 'rxjs';
import { HttpResult } from './http-result';
import { locationOf } from './location';

/**
 * Applies an HttpResult's status and headers, and gives every 201/202 a `Location` header: the
 * `self` link of the created resource, so the URL is built in one place (the mapper's links).
 */
@Injectable()
export class HttpResultInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(
      map((result: unknown) => {
        let body = result;
        if (result instanceof HttpResult) {
          reply.status(result.status);
          reply.headers(result.headers);
          body = result.body;
        }
        const location = locationOf(reply.statusCode, body);
        if (location) reply.header('location', location);
        return body;
      }),
    );
  }
}
