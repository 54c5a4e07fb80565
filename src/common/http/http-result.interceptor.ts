import { CallHandler, ExecutionContext, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, Observable } from 'rxjs';
import { LinkDto } from '../links/link.dto';
import { HttpResult } from './http-result';

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
        if (reply.statusCode === HttpStatus.CREATED || reply.statusCode === HttpStatus.ACCEPTED) {
          const self = (body as { links?: LinkDto[] } | undefined)?.links?.find((link) => link.rel === 'self');
          if (self) reply.header('location', self.href);
        }
        return body;
      }),
    );
  }
}
