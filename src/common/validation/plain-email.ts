import { isEmail, registerDecorator, ValidationOptions } from 'class-validator';
import { hasInvisibleCharacters } from './text-input';

/** Nothing a mail header could read as a second address, a comment, a group or a display name. */
const PLAIN_ADDRESS = /^[^\s"(),:;<>[\\\]@]+@[^\s"(),:;<>[\\\]@]+$/;

/**
 * A plain `local@domain` address (at most 254 characters): no display name, quotes, comments,
 * groups, whitespace, line breaks, nor invisible or direction-changing characters (an address that
 * reads as another one). The one rule for every address a client gives us.
 */
export function isPlainEmail(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length <= 254 &&
    PLAIN_ADDRESS.test(value) &&
    !hasInvisibleCharacters(value) &&
    isEmail(value)
  );
}

export function IsPlainEmail(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPlainEmail',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => isPlainEmail(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be a plain e-mail address (name@domain), without display name, quotes or comments`,
      },
    });
}
