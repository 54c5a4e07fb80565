import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/database/embedded-postgres';
import { sleep } from './fault-relay';

const ROOT = join(__dirname, '..', '..');

/** The node options of `npm run start:prod` (heap bounds), so the service runs as it does in production. */
function productionNodeOptions(): string[] {
  const script =
    (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts[
      'start:prod'
    ] ?? '';
  return script.split(/\s+/).filter((arg) => arg.startsWith('--'));
}
/**
 * Where each service process writes its output (named in failures), one folder per run (set by
 * global-setup.ts, so runs of other checkouts never mix). Also its working directory, so no `.env` is read.
 */
const LOG_DIR = process.env.FAULTS_LOG_DIR ?? join(tmpdir(), `communication-faults-logs-${process.pid}`);

/** Small delivery settings, so leases expire, retries come back and shutdowns end in seconds. */
export const FAULT_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  // JSON lines, as in production: the logs kept per process are searchable.
  LOG_FORMAT: 'json',
  // Every call comes from 127.0.0.1, hundreds a second: the rate limit would answer 429 to the test.
  RATE_LIMIT_PER_MINUTE: '0',
  // Access control is not what these tests are about (and is off by default outside production).
  AUTH_MODE: 'off',
  MAIL_FROM: 'Voyages <no-reply@voyages.test>',
  FRONTEND_BASE_URL: 'https://app.voyages.test',
  DELIVERY_LEASE_SECONDS: '6',
  SHUTDOWN_GRACE_SECONDS: '5',
  DELIVERY_RETRY_BASE_SECONDS: '1',
  DELIVERY_RETRY_MAX_SECONDS: '4',
  DELIVERY_MAX_ATTEMPTS: '60',
  DELIVERY_MAX_AGE_HOURS: '1',
  DELIVERY_POLLING_INTERVAL_SECONDS: '1',
};

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from the signal sent by `kill` to the exit (0 when it exited by itself). */
  afterSignalMs: number;
}

const live = new Set<ChildProcess>();
// A test that dies must not leave services behind.
process.once('exit', () => live.forEach((child) => child.kill('SIGKILL')));

let started = 0;

/** The real service, `node dist/src/main.js` with the options of `start:prod`, as a child process a test can kill. */
export class ServiceProcess {
  readonly exited: Promise<Exit>;
  private exitInfo?: Exit;
  private signalAt = 0;
  private tail: string[] = [];

  private constructor(
    readonly name: string,
    readonly url: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    const log: WriteStream = createWriteStream(logFile);
    const keep = (chunk: Buffer): void => {
      log.write(chunk);
      this.tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (this.tail.length > 40) this.tail.splice(0, this.tail.length - 40);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        log.end();
        this.exitInfo = { code, signal, afterSignalMs: this.signalAt ? Date.now() - this.signalAt : 0 };
        resolve(this.exitInfo);
      });
    });
  }

  /**
   * Starts the service with `env` on top of FAULT_ENV and waits until `/health/ready` answers 200
   * (RUN_MODE=worker too: every mode serves the health endpoints).
   */
  static async start(name: string, env: Record<string, string>, readyTimeoutMs = 60_000): Promise<ServiceProcess> {
    mkdirSync(LOG_DIR, { recursive: true });
    const port = await freePort();
    const logFile = join(LOG_DIR, `${String(++started).padStart(2, '0')}-${name}-${process.pid}.log`);
    const child = spawn(process.execPath, [...productionNodeOptions(), join(ROOT, 'dist', 'src', 'main.js')], {
      cwd: LOG_DIR,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        ...FAULT_ENV,
        // A port of its own for the inbound listener: processes start side by side (2525 is the local default).
        INBOUND_SMTP_PORT: String(await freePort()),
        ...env,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    const service = new ServiceProcess(name, `http://127.0.0.1:${port}`, logFile, child);
    await service.waitReady(readyTimeoutMs);
    return service;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return !this.exitInfo;
  }

  /** Sends `signal` and resolves with how the process ended. */
  async kill(signal: NodeJS.Signals, timeoutMs = 60_000): Promise<Exit> {
    if (this.exitInfo) return this.exitInfo;
    this.signalAt = Date.now();
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** Errors the process logged (JSON lines at level error and above), counted by error type: what lies behind a 500. */
  loggedErrorTypes(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { level?: number; err?: { type?: string } };
        if ((entry.level ?? 0) >= 50 && entry.err?.type) counts[entry.err.type] = (counts[entry.err.type] ?? 0) + 1;
      } catch {
        // A line cut short by a kill.
      }
    }
    return counts;
  }

  /** The last lines the process wrote, for failure messages. */
  lastLines(): string {
    return `${this.name} (${this.logFile}):\n${this.tail.join('\n')}`;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitInfo)
        throw new Error(
          `${this.name} exited (${this.exitInfo.code ?? this.exitInfo.signal}) before it was ready\n${this.lastLines()}`,
        );
      try {
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        await this.kill('SIGKILL');
        throw new Error(`${this.name} was not ready within ${timeoutMs} ms\n${this.lastLines()}`);
      }
      await sleep(200);
    }
  }
}
