import { HttpException, HttpStatus } from '@nestjs/common';

/** The error names of the contract, each with its HTTP status. */
export const ERROR_STATUS = {
  VALIDATION_ERROR: HttpStatus.BAD_REQUEST,
  MALFORMED_REQUEST: HttpStatus.BAD_REQUEST,
  UNAUTHORIZED: HttpStatus.UNAUTHORIZED,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  RESOURCE_NOT_FOUND: HttpStatus.NOT_FOUND,
  CONFLICT: HttpStatus.CONFLICT,
  PRECONDITION_FAILED: HttpStatus.PRECONDITION_FAILED,
  REQUEST_TIMEOUT: HttpStatus.REQUEST_TIMEOUT,
  PAYLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  URI_TOO_LONG: HttpStatus.URI_TOO_LONG,
  UNSUPPORTED_MEDIA_TYPE: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  HEADERS_TOO_LARGE: 431,
  IDEMPOTENCY_KEY_REUSED: HttpStatus.UNPROCESSABLE_ENTITY,
  TOO_MANY_REQUESTS: HttpStatus.TOO_MANY_REQUESTS,
  INTERNAL_SERVER_ERROR: HttpStatus.INTERNAL_SERVER_ERROR,
  SERVICE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
} as const;

export type ErrorName = keyof typeof ERROR_STATUS;
export type ErrorLocation = 'body' | 'query' | 'path' | 'header';

export interface ErrorDetail {
  field: string;
  value?: string;
  location?: ErrorLocation;
  issue: string;
}

const DEFAULT_MESSAGES: Record<ErrorName, string> = {
  VALIDATION_ERROR: 'The request is not valid.',
  MALFORMED_REQUEST: 'The request could not be read.',
  UNAUTHORIZED: 'Authentication is required.',
  FORBIDDEN: 'You are not allowed to do this.',
  RESOURCE_NOT_FOUND: 'The resource does not exist.',
  CONFLICT: 'The action is not allowed in the current state of the resource.',
  PRECONDITION_FAILED: 'The resource has changed since you read it.',
  REQUEST_TIMEOUT: 'The request was not received in time.',
  PAYLOAD_TOO_LARGE: 'The request body is too large.',
  URI_TOO_LONG: 'The URL is too long (at most 8 KB).',
  UNSUPPORTED_MEDIA_TYPE: 'The request body must be JSON (Content-Type: application/json).',
  HEADERS_TOO_LARGE: 'The request headers are too large.',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was already used with a different request.',
  TOO_MANY_REQUESTS: 'Too many requests; retry later.',
  INTERNAL_SERVER_ERROR: 'An unexpected error occurred.',
  SERVICE_UNAVAILABLE: 'The service is not available right now.',
};

/** Every failure the service reports on purpose; the global filter turns it into the error body. */
export class ApiError extends HttpException {
  constructor(
    readonly errorName: ErrorName,
    message: string = DEFAULT_MESSAGES[errorName],
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message, ERROR_STATUS[errorName]);
  }

  static validation(details: ErrorDetail[], message?: string): ApiError {
    return new ApiError('VALIDATION_ERROR', message, details);
  }

  static notFound(what: string): ApiError {
    return new ApiError('RESOURCE_NOT_FOUND', `${what} does not exist.`);
  }

  static conflict(message: string): ApiError {
    return new ApiError('CONFLICT', message);
  }

  static forbidden(message?: string): ApiError {
    return new ApiError('FORBIDDEN', message);
  }

  static preconditionFailed(message?: string): ApiError {
    return new ApiError('PRECONDITION_FAILED', message);
  }

  /** The database (or another dependency every request needs) cannot be reached: try again shortly. */
  static serviceUnavailable(retryAfterSeconds: number, message?: string): ApiError {
    return new ApiError('SERVICE_UNAVAILABLE', message, [], { 'retry-after': String(retryAfterSeconds) });
  }

  static defaultMessage(name: ErrorName): string {
    return DEFAULT_MESSAGES[name];
  }
}
