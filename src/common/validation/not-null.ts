import { applyDecorators } from '@nestjs/common';
import { registerDecorator, ValidateIf } from 'class-validator';

/** The name of the rule: the validation pipe reports it alone for a null value (not also "must be a string"…). */
export const IS_NOT_NULL = 'isNotNull';

/**
 * A field that may be left out but is never `null` (what a PATCH field is unless null has a
 * meaning, such as clearing it). `@IsOptional()` lets null through to the service as if the field
 * were absent; this runs the field's rules for every value but `undefined`, and names null itself.
 */
export function OptionalNotNull(): PropertyDecorator {
  return applyDecorators(
    ValidateIf((_object, value) => value !== undefined),
    (target: object, propertyName: string | symbol) =>
      registerDecorator({
        name: IS_NOT_NULL,
        target: target.constructor,
        propertyName: propertyName as string,
        validator: {
          validate: (value: unknown) => value !== null,
          defaultMessage: () => 'must not be null (leave the field out to keep its value)',
        },
      }),
  );
}
