import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(__dirname, '..', '..', 'migrations');

/**
 * Two migrations with one timestamp run in the order the file system lists them. This pair already
 * runs on deployed databases under these names (renaming one would run it again there): it is the
 * one pair allowed.
 */
const KNOWN_SHARED = new Map([
  ['1764000005000', ['1764000005000-LiveConversations.ts', '1764000005000-WebhooksAndSuppressions.ts']],
]);

describe('migrations/', () => {
  const files = readdirSync(DIR)
    .filter((file) => file.endsWith('.ts'))
    .sort();

  it('gives every migration a timestamp of its own (but the one known pair)', () => {
    const byTimestamp = new Map<string, string[]>();
    for (const file of files) {
      const timestamp = /^(\d{13})-/.exec(file)?.[1];
      expect(timestamp).toBeDefined();
      byTimestamp.set(timestamp!, [...(byTimestamp.get(timestamp!) ?? []), file]);
    }
    const shared = [...byTimestamp].filter(([, names]) => names.length > 1);
    expect(shared).toEqual([...KNOWN_SHARED]);
  });

  it('names each migration class and its `name` after its file, so TypeORM records what ran', () => {
    for (const file of files) {
      const [, timestamp, title] = /^(\d{13})-(\w+)\.ts$/.exec(file)!;
      const source = readFileSync(join(DIR, file), 'utf8');
      expect({
        file,
        className: /export class (\w+)/.exec(source)?.[1],
        name: /name = '(\w+)'/.exec(source)?.[1],
      }).toEqual({
        file,
        className: `${title}${timestamp}`,
        name: `${title}${timestamp}`,
      });
    }
  });
});
