import { registerDecorator, ValidationOptions } from 'class-validator';
import { isMoney } from '../../catalog/mail-variables';

export const MAX_VARIABLES = 50;
export const MAX_VARIABLE_LENGTH = 2000;
const KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Why `value` is not a valid `variables` object, or null when it is. */
export function variablesProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'must be an object';
  const entries = Object.entries(value);
  if (entries.length > MAX_VARIABLES) return `must have at most ${MAX_VARIABLES} keys`;
  for (const [key, item] of entries) {
    if (!KEY.test(key))
      return `key "${key.slice(0, 70)}" must be a letter followed by up to 63 letters, digits or underscores`;
    if (isMoney(item)) continue;
    if (!['string', 'number', 'boolean'].includes(typeof item))
      return `value of "${key}" must be a string, a number, a boolean or {amount, currency}`;
    if (typeof item === 'number' && !Number.isFinite(item)) return `value of "${key}" must be a finite number`;
    if (String(item).length > MAX_VARIABLE_LENGTH)
      return `value of "${key}" must be at most ${MAX_VARIABLE_LENGTH} characters`;
  }
  return null;
}

export function IsMailVariables(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isMailVariables',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => variablesProblem(value) === null,
        defaultMessage: (args) => variablesProblem(args?.value) ?? 'is not valid',
      },
    });
}
