import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { validateSync, ValidatorOptions } from 'class-validator';
import { oversizedArrays } from '../validation/array-rules';
import { cacheValidationMetadata } from '../validation/metadata-cache';
import { IS_NOT_NULL } from '../validation/not-null';
import { explainUnknownQueryParameter } from '../validation/query-parameters';
import { findTextProblems } from '../validation/text-input';
import { ApiError, ErrorDetail, ErrorLocation } from './api-error';

const LOCATIONS: Partial<Record<ArgumentMetadata['type'], ErrorLocation>> = {
  body: 'body',
  query: 'query',
  param: 'path',
};

/**
 * The global ValidationPipe, answering with one `details` entry per broken rule and where the
 * value was read (body, query or path). Unknown fields are refused; known ones are typed. Before
 * any rule of a DTO, two checks of the whole input: the text rule (no control characters nor lone
 * surrogates, see text-input.ts) and arrays over their maximum size (refused before their items
 * are looked at).
 */
@Injectable()
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    cacheValidationMetadata();
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validationError: { target: false, value: true },
      exceptionFactory: (errors) => ApiError.validation(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dtoBody = metadata.type === 'body' && metadata.metatype !== undefined && !isPrimitive(metadata.metatype);
    // An absent body is an empty object: accepted where every field is optional (PUT
    // /v1/suppressions/{email}), else each missing field is named.
    if (dtoBody && value === undefined) value = {};
    if (dtoBody && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new ApiError('MALFORMED_REQUEST', 'The request body must be a JSON object.');
    }
    const location = LOCATIONS[metadata.type];
    // An array body is a batch: its handler judges each item through this pipe, text rule included,
    // so one bad item is that item's 400 and not the whole request's.
    const batch = metadata.type === 'body' && metadata.metatype === Array;
    if (location && !batch && !(metadata.metatype && this.toValidate(metadata))) {
      // A value no DTO describes (a path parameter, a bare query value): the text rule still holds.
      const problems = findTextProblems(value, location, metadata.data ?? '');
      if (problems.length) throw ApiError.validation(problems);
    }
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof ApiError && location) error.details.forEach((detail) => (detail.location ??= location));
      if (error instanceof ApiError && location === 'query') error.details.forEach(explainUnknownQueryParameter);
      throw error;
    }
  }

  /**
   * Runs on the instance class-transformer built, so nested DTOs are known (and their @MultiLine
   * fields). Synchronously: every rule of the service is synchronous, and class-validator's async
   * path costs a promise per rule (a 500-event batch validates each event).
   */
  protected override validate(object: object, options?: ValidatorOptions): ValidationError[] {
    const oversized = oversizedArrays(object);
    if (oversized.length) throw ApiError.validation(oversized);
    const text = findTextProblems(object);
    if (text.length) throw ApiError.validation(text);
    return validateSync(object, options);
  }
}

function isPrimitive(type: unknown): boolean {
  return type === String || type === Number || type === Boolean || type === Object || type === Array;
}

function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent
      ? /^\d+$/.test(error.property)
        ? `${parent}[${error.property}]`
        : `${parent}.${error.property}`
      : error.property;
    // A missing required field is one problem, not every rule its value would have had to meet.
    if (error.value === undefined && error.constraints && !error.children?.length)
      return [{ field, issue: 'is required' }];
    // A null where null is refused is one problem, not also "must be a string", "must not be empty"…
    const constraints =
      error.value === null && error.constraints?.[IS_NOT_NULL]
        ? { [IS_NOT_NULL]: error.constraints[IS_NOT_NULL] }
        : error.constraints;
    const own = Object.values(constraints ?? {}).map((issue) => ({
      field,
      value: describe(error.value),
      issue: issue.replace(/^property \S+ /, ''),
    }));
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
