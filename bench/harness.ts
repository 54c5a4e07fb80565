/**
 * What every row of the bench needs: child processes (the service, the empty app), their memory,
 * a keep-alive HTTP load generator, percentiles, and the table the bench prints.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../src/database/embedded-postgres';

export const ROOT = join(__dirname, '..', '..');
export const MAIN_JS = join(ROOT, 'dist', 'src', 'main.js');

/** The service runs as in production (AUTH_MODE=on): every call carries this API key. */
export const BENCH_KEY = `bench_${randomUUID()}`;
export const AUTH = { authorization: `Bearer ${BENCH_KEY}` };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function envInt(name: string, fallback: number): number {
  const value = process.env[name];
  const parsed = value === undefined || value === '' ? fallback : Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative number (got "${value}")`);
  return parsed;
}

export interface Child {
  child: ChildProcess;
  url: string;
  port: number;
  /** Resolves when the process has exited (after `stop`, or by itself). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const children = new Set<Child>();

/** Bytes the children wrote to stdout (their logs), drained by the bench as a log shipper would. */
export const logBytes = { total: 0 };

/**
 * Starts `node <args>` on a fresh loopback port and resolves once `readyPath` answers 200.
 * stdout is a pipe drained here (as in production, where a log shipper reads it: writing to
 * /dev/null would hide the cost of the logs); stderr is kept to explain a failed start.
 */
export async function startNode(
  args: string[],
  env: Record<string, string>,
  options: { readyPath?: string; nodeOptions?: string[] } = {},
): Promise<Child> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (logBytes.total += chunk.length));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const handle: Child = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(forced);
      children.delete(handle);
    },
  };
  children.add(handle);
  const readyPath = options.readyPath ?? '/health';
  let dead = false;
  void exited.then(() => (dead = true));
  for (;;) {
    if (dead)
      throw new Error(`${args.join(' ')} exited with ${child.exitCode} before answering ${readyPath}:\n${stderr}`);
    if ((await statusOf(`${handle.url}${readyPath}`)) === 200) return handle;
    await sleep(10);
  }
}

/**
 * The node flags production starts the service with: those of package.json's `start:prod` (which
 * the Dockerfile repeats), or BENCH_NODE_OPTIONS when set.
 */
export function productionNodeFlags(): string[] {
  if (process.env.BENCH_NODE_OPTIONS !== undefined) return process.env.BENCH_NODE_OPTIONS.split(/\s+/).filter(Boolean);
  const scripts =
    (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ??
    {};
  const words = (scripts['start:prod'] ?? '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1).filter((word) => word.startsWith('--'));
}

/** Spawns the service (`node <production flags> dist/src/main.js`) with `env`; resolves once /health/ready is 200. */
export function startService(env: Record<string, string>, nodeOptions: string[] = []): Promise<Child> {
  return startNode([MAIN_JS], env, {
    readyPath: '/health/ready',
    nodeOptions: [...productionNodeFlags(), ...nodeOptions],
  });
}

/** At exit (synchronous): every child still running is told to stop. */
export function signalAll(): void {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop()));
}

/** The status of a GET, or 0 when nothing answers. */
export function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** VmRSS of a process in MB, from /proc (the child's own memory, not the bench's). */
export function rssMb(pid: number | undefined): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns min and max. */
export function sampleRss(
  pid: number | undefined,
  everyMs = 200,
): { stop(): { min: number; max: number; samples: number } } {
  const values: number[] = [];
  const take = (): void => {
    const value = rssMb(pid);
    if (Number.isFinite(value)) values.push(value);
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      take();
      return { min: Math.min(...values), max: Math.max(...values), samples: values.length };
    },
  };
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export function httpCall(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(options.body);
    }
    const req = request(url, { method: options.method ?? 'GET', agent: options.agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface LoadResult {
  latencies: number[];
  /** When each timed call ended (ms since the epoch), in the order of `latencies`. */
  ends: number[];
  seconds: number;
  count: number;
  /** Calls whose task threw (counted, not timed). */
  errors: number;
  firstError?: string;
}

/**
 * Runs `task` with `concurrency` callers at once, until `total` calls were made or `seconds`
 * passed (whichever is given); per-call latencies in ms.
 */
export async function load(
  limit: { total?: number; seconds?: number },
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const ends: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = limit.seconds === undefined ? Infinity : started + limit.seconds * 1000;
  const total = limit.total ?? Infinity;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        try {
          await task(i);
          const t1 = performance.now();
          latencies.push(t1 - t0);
          ends.push(performance.timeOrigin + t1);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
        }
      }
    }),
  );
  return {
    latencies,
    ends,
    seconds: (performance.now() - started) / 1000,
    count: latencies.length,
    errors,
    firstError,
  };
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** One printed line of the table: our figure, the reference, their ratio, the target and the verdict. */
export interface Row {
  what: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
  pass: boolean | null;
  note?: string;
}

export const rows: Row[] = [];
export const notes: string[] = [];

export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Adds a row and prints it at once, so a long run shows its progress. */
export function addRow(row: Row): void {
  rows.push(row);
  console.log(
    `  ${verdict(row.pass)}  ${row.what}: ${row.ours} (ref ${row.reference}, ratio ${row.ratio}, target ${row.target})${row.note ? ` — ${row.note}` : ''}`,
  );
}

/** A row whose measure broke: printed as FAIL with the reason, and the bench goes on. */
export function brokenRow(what: string, target: string, error: unknown): void {
  addRow({
    what,
    ours: 'error',
    reference: '–',
    ratio: '–',
    target,
    pass: false,
    note: (error as Error).message?.split('\n')[0] ?? String(error),
  });
}

export function verdict(pass: boolean | null): string {
  return pass === null ? 'info' : pass ? 'PASS' : 'FAIL';
}

export function section(title: string): void {
  console.log(`\n== ${title} (load ${loadAvg()})`);
}

export function loadAvg(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

/** The final table, in Markdown so it can go into the README as printed. */
export function table(): string {
  const lines = ['| what | ours | reference | ratio | target | pass |', '| --- | --- | --- | --- | --- | --- |'];
  for (const row of rows)
    lines.push(
      `| ${row.what} | ${row.ours} | ${row.reference} | ${row.ratio} | ${row.target} | ${verdict(row.pass)} |`,
    );
  return lines.join('\n');
}

/**
 * Runs each side `rounds` times, alternating (the order flipped every other round), so a change
 * of the machine's load during the run (other processes share its cores) hits both sides alike;
 * returns each side's results merged.
 */
export async function interleave<K extends string>(
  rounds: number,
  sides: Record<K, () => Promise<LoadResult>>,
): Promise<Record<K, LoadResult>> {
  const names = Object.keys(sides) as K[];
  const merged = Object.fromEntries(
    names.map((name) => [name, { latencies: [], ends: [], seconds: 0, count: 0, errors: 0 } as LoadResult]),
  ) as Record<K, LoadResult>;
  for (let round = 0; round < Math.max(1, rounds); round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      const result = await sides[name]();
      const into = merged[name];
      into.latencies.push(...result.latencies);
      into.ends.push(...result.ends);
      into.seconds += result.seconds;
      into.count += result.count;
      into.errors += result.errors;
      into.firstError ??= result.firstError;
    }
  }
  return merged;
}
