import { rm } from 'node:fs/promises';
import { Client } from 'pg';
import type { EmbeddedPostgres } from '../src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as Record<string, unknown>).__TEST_POSTGRES__ as
    { postgres: EmbeddedPostgres; dir: string } | undefined;
  if (started) {
    await started.postgres.stop();
    await rm(started.dir, { recursive: true, force: true });
    return;
  }
  await dropRunDatabases();
}

/** On a Postgres of one's own (DATABASE_URL), the databases the spec files of this run created. */
async function dropRunDatabases(): Promise<void> {
  const admin = new Client({ connectionString: process.env.TEST_ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
      `test_${process.env.TEST_RUN_ID}_%`,
    ]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
