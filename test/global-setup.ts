import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';

/**
 * One real Postgres for the whole run: DATABASE_URL when given, else an embedded one in a temp
 * directory. Each spec file then works in a database of its own (see harness.ts).
 */
export default async function globalSetup(): Promise<void> {
  // Names this run's databases, so the teardown drops them and nothing else of a shared server.
  process.env.TEST_RUN_ID = randomBytes(4).toString('hex');
  if (process.env.DATABASE_URL) {
    process.env.TEST_ADMIN_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'communication-test-'));
  // When run as root the server runs as a `postgres` user, which must reach the data directory.
  await chmod(dir, 0o755);
  const postgres = await startEmbeddedPostgres(join(dir, 'pg'), { database: 'postgres' });
  process.env.TEST_ADMIN_DATABASE_URL = postgres.url;
  (globalThis as Record<string, unknown>).__TEST_POSTGRES__ = { postgres, dir };
}
