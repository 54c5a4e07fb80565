import { RequestMethod } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { IdempotencyGuard } from './idempotency.guard';

/** Every controller of the service, found on disk so that a new one cannot be forgotten here. */
function controllers(dir = join(__dirname, '..', '..')): Array<new (...args: never[]) => unknown> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return controllers(path);
    if (!/\.controller\.ts$/.test(entry.name)) return [];
    return Object.values(require(path) as Record<string, unknown>).filter(
      (value): value is new () => unknown => typeof value === 'function' && Reflect.hasMetadata(PATH_METADATA, value),
    );
  });
}

describe('@Idempotent', () => {
  it('is on every POST route, so Idempotency-Key is honoured wherever the contract promises it', () => {
    const posts: string[] = [];
    const without: string[] = [];
    for (const controller of controllers()) {
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) !== RequestMethod.POST)
          continue;
        posts.push(`${controller.name}.${name}`);
        const guards = (Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? [];
        if (!guards.includes(IdempotencyGuard)) without.push(`${controller.name}.${name}`);
      }
    }
    expect(posts.length).toBeGreaterThanOrEqual(9);
    expect(without).toEqual([]);
  });
});
