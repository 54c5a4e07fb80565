import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError, ErrorDetail, ErrorLocation } from './api-error';

const LOCATIONS: Partial<Record<ArgumentMetadata['type'], ErrorLocation>> = { body: 'body', query: 'query', param: 'path' };

/**
 * The global ValidationPipe, answering with one `details` entry per broken rule and where the
 * value was read (body, query or path). Unknown fields are refused; known ones are typed.
 */
@Injectable()
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validationError: { target: false, value: true },
      exceptionFactory: (errors) => ApiError.validation(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value))) {
      if (metadata.metatype && !isPrimitive(metadata.metatype)) {
        throw new ApiError('MALFORMED_REQUEST', 'The request body must be a JSON object.');
      }
    }
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      const location = LOCATIONS[metadata.type];
      if (error instanceof ApiError && location) error.details.forEach((detail) => (detail.location ??= location));
      throw error;
    }
  }
}

function isPrimitive(type: unknown): boolean {
  return type === String || type === Number || type === Boolean || type === Object || type === Array;
}

function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? (/^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`) : error.property;
    const own = Object.values(error.constraints ?? {}).map((issue) => ({ field, value: describe(error.value), issue: issue.replace(/^property \S+ /, '') }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** The received value as short text; objects are summarised so a detail never echoes a whole body. */
function describe(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? `[array of ${value.length}]` : '[object]';
  const text = String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
