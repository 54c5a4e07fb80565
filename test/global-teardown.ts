import { rm } from 'node:fs/promises';
import type { EmbeddedPostgres } from '../src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as Record<string, unknown>).__TEST_POSTGRES__ as { postgres: EmbeddedPostgres; dir: string } | undefined;
  if (!started) return;
  await started.postgres.stop();
  await rm(started.dir, { recursive: true, force: true });
}
