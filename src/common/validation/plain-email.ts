import { registerDecorator, ValidationOptions } from 'class-validator';
import { isPlainEmail } from '../../config/plain-email';

/** The rule itself is config/plain-email.ts (the configuration checks addresses with it too). */
export { isPlainEmail };

/** A DTO field that holds a plain `local@domain` address (isPlainEmail). */
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
