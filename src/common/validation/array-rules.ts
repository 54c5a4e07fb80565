import { ARRAY_MAX_SIZE, getMetadataStorage, registerDecorator, ValidationOptions } from 'class-validator';
import type { ErrorDetail, ErrorLocation } from '../errors/api-error';

/**
 * Distinct items, checked with a Set in linear time (class-validator's `@ArrayUnique` compares
 * every pair: 100,000 items froze the event loop for seconds). Items are compared as JSON-free
 * primitives; objects by identity.
 */
export function ArrayDistinct(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'arrayDistinct',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => !Array.isArray(value) || new Set(value).size === value.length,
        defaultMessage: (args) => `${args?.property ?? 'items'} must not contain the same value twice`,
      },
    });
}

/**
 * Arrays longer than their `@ArrayMaxSize`, found before any per-item rule runs: a body of
 * 100,000 items is refused for its length alone, with one detail, instead of being checked item
 * by item (and answered with one detail per bad item). Looks at `entity` and the class instances
 * nested in it (what class-transformer built from `@Type`).
 */
export function oversizedArrays(entity: object, location?: ErrorLocation): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const stack: Array<{ value: object; path: string; depth: number }> = [{ value: entity, path: '', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (depth > 8) continue;
    const limits = getMetadataStorage()
      .getTargetValidationMetadatas(value.constructor, '', true, false)
      .filter((rule) => rule.name === ARRAY_MAX_SIZE);
    for (const rule of limits) {
      const items = (value as Record<string, unknown>)[rule.propertyName];
      const max = Number(rule.constraints[0]);
      if (Array.isArray(items) && items.length > max) {
        const field = path ? `${path}.${rule.propertyName}` : rule.propertyName;
        problems.push({
          field,
          value: `[array of ${items.length}]`,
          location,
          issue: `must contain at most ${max} elements`,
        });
      }
    }
    for (const [key, child] of Object.entries(value)) {
      if (child === null || typeof child !== 'object' || Array.isArray(child)) continue;
      if (Object.getPrototypeOf(child) !== Object.prototype)
        stack.push({ value: child, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
  return problems;
}
