import type { NestApplicationOptions } from '@nestjs/common';
import type { FastifyError, FastifyHttpOptions, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { attachRequestContext, CORRELATION_HEADER, RawRequest } from './common/correlation/correlation';
import { ApiError, ErrorName } from './common/errors/api-error';
import { toErrorResponse } from './common/errors/error-body.factory';
import { AppConfig } from './config/app.config';

/** What Node's `clientError` event passes: the parser's error and the bytes it held. */
type ClientError = NodeJS.ErrnoException & { rawPacket?: Buffer };

/** The longest URL served (path and query); longer is `414 URI_TOO_LONG`. */
export const MAX_URL_LENGTH = 8 * 1024;

/**
 * Nest's options for the HTTP app: its own body parsers (JSON and form-urlencoded) are off, as
 * the service registers the only one it accepts (see json-body.parser.ts).
 */
export const NEST_HTTP_OPTIONS: NestApplicationOptions = { bodyParser: false };

/**
 * The one set of Fastify options, for `main.ts`, the tests and the benchmark alike: limits,
 * timeouts, the trusted proxies, and the contract's error body for what Fastify and Node's HTTP
 * parser refuse before any route or hook runs.
 */
export function fastifyOptions(config: AppConfig): FastifyHttpOptions<Server> {
  const timeoutMs = config.http.requestTimeoutSeconds * 1000;
  return {
    bodyLimit: config.http.bodyLimitBytes,
    // Recipient ids are up to 255 characters; the URL as a whole is bounded at 8 KB (414 beyond).
    routerOptions: { maxParamLength: MAX_URL_LENGTH },
    // Receiving a request and its headers, an idle socket and an idle keep-alive connection.
    requestTimeout: timeoutMs,
    connectionTimeout: timeoutMs,
    keepAliveTimeout: timeoutMs,
    // Node checks the request and headers timeouts every `connectionsCheckingInterval` (30 s by default).
    http: { headersTimeout: timeoutMs, connectionsCheckingInterval: Math.min(5000, timeoutMs) },
    trustProxy: config.http.trustProxy,
    // Fastify's own 503 while closing has its own body: app.setup.ts answers it with ours instead.
    return503OnClosing: false,
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { correlationId, requestBaseUrl } = attachRequestContext(request.raw as RawRequest);
      const response = toErrorResponse(error, correlationId, config.http.publicBaseUrl ?? requestBaseUrl);
      void reply
        .status(response.status)
        .headers({ ...response.headers, [CORRELATION_HEADER]: correlationId, 'x-content-type-options': 'nosniff' })
        .type('application/json; charset=utf-8')
        .send(response.body);
    },
    clientErrorHandler: (error, socket) => answerClientError(error as unknown as ClientError, socket, config),
  };
}

/**
 * Node's HTTP parser refuses some requests before Fastify sees them (headers over 16 KB, bytes
 * that are not HTTP, a request not received within the timeout): they still get the error body
 * and a correlation id, on a connection that is then closed.
 */
export function answerClientError(error: ClientError, socket: Socket, config: AppConfig): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const name = clientErrorName(error);
  const correlationId = randomUUID();
  const base =
    config.http.publicBaseUrl ??
    `http://${socket.localAddress?.includes(':') ? `[${socket.localAddress}]` : socket.localAddress}:${socket.localPort}`;
  const response = toErrorResponse(new ApiError(name), correlationId, base);
  const body = JSON.stringify(response.body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `${CORRELATION_HEADER}: ${correlationId}\r\n` +
        `X-Content-Type-Options: nosniff\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The error name of a request Node's parser refused; a request line alone over the limit is a long URL. */
export function clientErrorName(error: ClientError): ErrorName {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT';
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    // What the parser held when it gave up: a request line that has not even ended is a long URL.
    const packet = error.rawPacket?.subarray(0, MAX_URL_LENGTH + 32).toString('latin1') ?? '';
    return /^[A-Z]+ /.test(packet) && packet.length > MAX_URL_LENGTH && !packet.includes('\r\n')
      ? 'URI_TOO_LONG'
      : 'HEADERS_TOO_LARGE';
  }
  return 'MALFORMED_REQUEST';
}
