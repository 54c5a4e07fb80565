import { HttpException, HttpStatus } from '@nestjs/common';
import { ApiError, ERROR_STATUS, ErrorDetail, ErrorName } from './api-error';
import { ErrorBodyDto } from './error-body.dto';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from './database-unavailable';

export interface ErrorResponse {
  status: number;
  body: ErrorBodyDto;
  headers: Record<string, string>;
  /** Whether the cause deserves an error log (an unexpected failure rather than a client mistake). */
  unexpected: boolean;
}

/** Fastify's own errors (raised before Nest sees the request), by code, with the part at fault. */
const FASTIFY_ERRORS: Record<string, { name: ErrorName; field: string; location: ErrorDetail['location'] }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { name: 'PAYLOAD_TOO_LARGE', field: 'body', location: 'body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { name: 'UNSUPPORTED_MEDIA_TYPE', field: 'Content-Type', location: 'header' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { name: 'MALFORMED_REQUEST', field: 'Content-Length', location: 'header' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { name: 'MALFORMED_REQUEST', field: 'body', location: 'body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { name: 'MALFORMED_REQUEST', field: 'body', location: 'body' },
  FST_ERR_BAD_URL: { name: 'MALFORMED_REQUEST', field: 'url', location: 'path' },
  FST_ERR_MAX_PARAM_LENGTH: { name: 'URI_TOO_LONG', field: 'url', location: 'path' },
};

const BY_STATUS: Partial<Record<number, ErrorName>> = {
  [HttpStatus.BAD_REQUEST]: 'MALFORMED_REQUEST',
  [HttpStatus.UNAUTHORIZED]: 'UNAUTHORIZED',
  [HttpStatus.FORBIDDEN]: 'FORBIDDEN',
  [HttpStatus.NOT_FOUND]: 'RESOURCE_NOT_FOUND',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'RESOURCE_NOT_FOUND',
  [HttpStatus.REQUEST_TIMEOUT]: 'REQUEST_TIMEOUT',
  [HttpStatus.CONFLICT]: 'CONFLICT',
  [HttpStatus.PRECONDITION_FAILED]: 'PRECONDITION_FAILED',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'PAYLOAD_TOO_LARGE',
  [HttpStatus.URI_TOO_LONG]: 'URI_TOO_LONG',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
  [HttpStatus.TOO_MANY_REQUESTS]: 'TOO_MANY_REQUESTS',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'SERVICE_UNAVAILABLE',
};

/**
 * Turns anything thrown into the contract's error body. Used by the global exception filter and
 * by Fastify's error handler (body parsing fails before Nest's filters run), so both agree.
 */
export function toErrorResponse(error: unknown, correlationId: string, baseUrl: string): ErrorResponse {
  const { name, message, details, headers, unexpected } = classify(error);
  return {
    status: ERROR_STATUS[name],
    headers,
    unexpected,
    body: {
      name,
      debug_id: correlationId,
      message,
      information_link: `${baseUrl}/docs/errors#${name}`,
      details,
      links: [],
    },
  };
}

function classify(error: unknown): {
  name: ErrorName;
  message: string;
  details: ErrorDetail[];
  headers: Record<string, string>;
  unexpected: boolean;
} {
  if (error instanceof ApiError) {
    return {
      name: error.errorName,
      message: error.message,
      details: error.details,
      headers: error.headers,
      unexpected: false,
    };
  }
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && Object.hasOwn(FASTIFY_ERRORS, code)) {
    const { name, field, location } = FASTIFY_ERRORS[code];
    return {
      name,
      message: ApiError.defaultMessage(name),
      details: [{ field, location, issue: (error as Error).message }],
      headers: {},
      unexpected: false,
    };
  }
  if (isDatabaseUnavailable(error)) {
    // Logged (the cause matters to ops) but answered as what it is: try again shortly.
    return {
      name: 'SERVICE_UNAVAILABLE',
      message: 'The database cannot be reached right now; retry later.',
      details: [],
      headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
      unexpected: true,
    };
  }
  // A JSON syntax error or a forbidden `__proto__` key from Fastify's body parser.
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (error instanceof SyntaxError || (statusCode === 400 && !(error instanceof HttpException))) {
    return {
      name: 'MALFORMED_REQUEST',
      message: 'The request body is not valid JSON.',
      details: [{ field: 'body', location: 'body', issue: (error as Error).message }],
      headers: {},
      unexpected: false,
    };
  }
  const status = error instanceof HttpException ? error.getStatus() : typeof statusCode === 'number' ? statusCode : 500;
  const name = BY_STATUS[status];
  if (name === 'MALFORMED_REQUEST' || name === 'PAYLOAD_TOO_LARGE') {
    // What the body parser said (e.g. "Unexpected token b in JSON at position 1").
    return {
      name,
      message: ApiError.defaultMessage(name),
      details: [{ field: 'body', location: 'body', issue: (error as Error).message }],
      headers: {},
      unexpected: false,
    };
  }
  if (name === 'UNSUPPORTED_MEDIA_TYPE') {
    // Nest hands Fastify's FST_ERR_CTP_INVALID_MEDIA_TYPE over as a bare 415 HttpException.
    return {
      name,
      message: ApiError.defaultMessage(name),
      details: [{ field: 'Content-Type', location: 'header', issue: 'must be application/json' }],
      headers: {},
      unexpected: false,
    };
  }
  if (name)
    return {
      name,
      message: ApiError.defaultMessage(name),
      details: failedChecks(error),
      headers: {},
      unexpected: false,
    };
  return {
    name: 'INTERNAL_SERVER_ERROR',
    message: ApiError.defaultMessage('INTERNAL_SERVER_ERROR'),
    details: [],
    headers: {},
    unexpected: true,
  };
}

/** The failed checks of a readiness probe (terminus puts them under `error`), one detail each. */
function failedChecks(error: unknown): ErrorDetail[] {
  if (!(error instanceof HttpException) || error.getStatus() !== HttpStatus.SERVICE_UNAVAILABLE) return [];
  const checks = (error.getResponse() as { error?: Record<string, { message?: string }> }).error ?? {};
  return Object.entries(checks).map(([field, check]) => ({ field, issue: check.message ?? 'is down' }));
}
