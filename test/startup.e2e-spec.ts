import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/database/embedded-postgres';

const ROOT = join(__dirname, '..');

/**
 * How the service is started: `node scripts/start.js` (what `npm start` runs) when dist/ is up to
 * date (CI builds first), else the sources through ts-node, so running this spec never rebuilds
 * the checkout's dist/ under other work.
 */
function serviceCommand(): string[] {
  const buildScript = join(ROOT, 'scripts', 'build.js');
  if (existsSync(buildScript)) {
    const { staleReason } = require(buildScript) as { staleReason(root: string): string | undefined };
    if (staleReason(ROOT) === undefined) return [join(ROOT, 'scripts', 'start.js')];
  }
  return ['-r', require.resolve('ts-node/register/transpile-only'), join(ROOT, 'src', 'main.ts')];
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The service in a process group of its own (as a terminal runs `npm start`), with its output kept line by line. */
class Service {
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  private exit?: Exit;
  private waiters: Array<() => void> = [];

  constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    let partial = '';
    const keep = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      this.lines.push(...complete.filter((line) => line.trim() !== ''));
      this.waiters.splice(0).forEach((wake) => wake());
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (partial.trim()) this.lines.push(partial);
        this.exit = { code, signal };
        this.waiters.splice(0).forEach((wake) => wake());
        resolve(this.exit);
      }),
    );
  }

  static spawn(cwd: string, port: number, env: Record<string, string>): Service {
    const child = spawn(process.execPath, serviceCommand(), {
      cwd,
      // Nothing of the test run's environment (NODE_ENV=test, DATABASE_URL…): what a person's shell has.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? cwd,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        PORT: String(port),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new Service(port, child);
  }

  static async start(cwd: string, env: Record<string, string>): Promise<Service> {
    const service = Service.spawn(cwd, await freePort(), env);
    await service.ready();
    return service;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves when a line matching `test` was written (rejects if the process ends or `timeoutMs` passes first). */
  async waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(test);
      if (found !== undefined) return found;
      if (this.exit)
        throw new Error(
          `exited (${this.exit.code ?? this.exit.signal}) without such a line:\n${this.lines.join('\n')}`,
        );
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such line within ${timeoutMs} ms:\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Ctrl-C at a terminal: SIGINT to every process of the group. */
  async interrupt(timeoutMs = 30_000): Promise<Exit> {
    process.kill(-this.pid, 'SIGINT');
    const timer = setTimeout(() => this.kill(), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  kill(): void {
    if (this.exit) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  private async ready(): Promise<void> {
    const deadline = Date.now() + 100_000;
    while (Date.now() < deadline && !this.exit) {
      try {
        if (
          (await fetch(`http://127.0.0.1:${this.port}/health/ready`, { signal: AbortSignal.timeout(2000) })).status ===
          200
        )
          return;
      } catch {
        // Not listening yet.
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 200)), this.exited]);
    }
    this.kill();
    throw new Error(`not ready:\n${this.lines.join('\n')}`);
  }
}

function json(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The service as a person or a platform runs it: a real process with its embedded Postgres and
 * inbox (DATABASE_URL and SMTP_URL unset) in a working directory of its own, stopped as a terminal
 * stops it (SIGINT to the whole process group). What it writes is read line by line.
 */
describe('The service as a process: what it writes at start, a second start, Ctrl-C', () => {
  const dir = mkdtempSync(join(tmpdir(), 'communication-startup-'));
  const services: Service[] = [];
  // As root, Postgres runs as a `postgres` user, which must reach the data directory.
  chmodSync(dir, 0o755);

  afterAll(() => {
    services.forEach((service) => service.kill());
    // A Postgres left by a service that was killed (it runs detached from the service's group).
    const pidFile = join(dir, '.data', 'postgres', 'postmaster.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
      } catch {
        // Not running.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('JSON lines at LOG_LEVEL=warn with AUTH_MODE=off: the warning is written while it runs, nothing but JSON, and Ctrl-C stops it with no error, exit 0', async () => {
    const service = await Service.start(dir, { LOG_FORMAT: 'json', LOG_LEVEL: 'warn', AUTH_MODE: 'off' });
    services.push(service);
    const warning = await service.waitForLine((line) => line.includes('AUTH_MODE=off'), 5000);
    expect(json(warning)).toMatchObject({ level: 40, msg: expect.stringContaining('access control is disabled') });

    const exit = await service.interrupt();
    // At this level the warning is all there is to say: no banner as text, no error at the stop.
    expect({ exit, lines: service.lines }).toEqual({ exit: { code: 0, signal: null }, lines: [warning] });
  }, 150_000);

  it('readable lines (npm start’s defaults): the banner; a second start in the same directory and port says in one line what is in use; Ctrl-C writes one "stopping" line, no error, exit 0', async () => {
    const service = await Service.start(dir, {});
    services.push(service);
    expect(service.lines).toEqual(
      expect.arrayContaining([
        'communication is running (RUN_MODE=all)',
        `  API          http://localhost:${service.port}/v1`,
        '  Postgres     embedded, data in .data/postgres (set DATABASE_URL to use your own)',
        expect.stringMatching(
          /^ {2}Inbox {8}http:\/\/localhost:\d+ {2}\(embedded SMTP on port \d+; set SMTP_URL to use a real relay\)$/,
        ),
      ]),
    );

    const second = Service.spawn(dir, service.port, {});
    services.push(second);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    const postgresPid = Number(readFileSync(join(dir, '.data', 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(second.lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^communication did not start: port ${service.port} is already in use, and so is the embedded Postgres's data directory \\.data/postgres \\(held by process ${postgresPid}.*\\)`,
        ),
      ),
    ]);

    const before = service.lines.length;
    const exit = await service.interrupt();
    const stopLines = service.lines.slice(before);
    expect({ exit, stopLines }).toEqual({
      exit: { code: 0, signal: null },
      stopLines: [expect.stringMatching(/INFO: communication is stopping \(SIGINT\)/)],
    });
    expect(service.lines.filter((line) => /ERROR|FATAL|Error|^\s+at /.test(line))).toEqual([]);
  }, 150_000);
});
