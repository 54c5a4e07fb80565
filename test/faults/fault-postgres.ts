import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/database/embedded-postgres';
import { PostgresProcess, startPostgresProcess } from '../postgres.process';

export const TEST_APPLICATION_NAME = 'communication-faults-test';

/**
 * A Postgres of the spec file's own (embedded-postgres, 127.0.0.1), that a test can stop and start
 * again on the same port and data directory, as an outage of the database server would.
 */
export class FaultPostgres {
  private running?: PostgresProcess;

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
    await running?.stop();
  }

  /** Starts it (again) on the same port and data directory; nothing when it runs already. */
  async restart(): Promise<void> {
    if (this.running) return;
    const running = await startPostgresProcess(join(this.dir, 'pg'), this.port);
    this.running = running;
    if (Number(new URL(running.url).port) !== this.port) {
      await this.stop();
      throw new Error(`Postgres came back on port ${new URL(running.url).port}, not ${this.port}`);
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
