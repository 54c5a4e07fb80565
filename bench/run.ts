/* eslint-disable no-console */
/**
 * `npm run bench`: measures the budgets of DESIGN.md against bare baselines on the same machine.
 *
 *   1. POST /v1/mails accepted per second and p99, vs a bare `pg` script doing the same inserts
 *      (mail + delivery + queue job in one transaction).
 *   2. Deliveries per second by a worker, vs a bare nodemailer pool sending pre-rendered mails to
 *      the same SMTP sink.
 *   3. GET /v1/mails at BENCH_LIST_ROWS rows: page 1, a deep page and filtered pages, vs the same
 *      raw SQL; and EXPLAIN of every filter, which must use an index.
 *   4. Steady RSS of the API and of the worker under that load.
 *
 * The service runs as child processes (`node dist/src/main.js`), so their memory is their own.
 * Sizes: BENCH_REQUESTS (default 3000), BENCH_CONCURRENCY (32), BENCH_LIST_ROWS (1000000).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTransport } from 'nodemailer';
import { Client, Pool } from 'pg';
import { SMTPServer } from 'smtp-server';
import { freePort, startEmbeddedPostgres } from '../src/database/embedded-postgres';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const LIST_ROWS = Number(process.env.BENCH_LIST_ROWS ?? 1_000_000);
const ROOT = join(__dirname, '..', '..');
/** The service runs as in production (AUTH_MODE=on): every call carries this API key. */
const BENCH_KEY = `bench_${randomUUID()}`;
const AUTH = { authorization: `Bearer ${BENCH_KEY}` };

interface Sink {
  url: string;
  count(): number;
  close(): Promise<void>;
}

/** An SMTP server that accepts and discards, counting messages: the sink of both delivery runs. */
async function startSink(): Promise<Sink> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received++;
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `smtp://127.0.0.1:${port}`, count: () => received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Runs `task` `total` times, `concurrency` at once; returns per-call latencies (ms) and the wall time. */
async function load(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

function post(url: string, body: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...AUTH, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function startService(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'main.js')], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = `http://127.0.0.1:${env.PORT}`;
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('communication is running')) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
}

async function rssMb(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: AUTH })).text();
  const match = /^process_resident_memory_bytes (\d+)/m.exec(text);
  return match ? Math.round(Number(match[1]) / 1024 / 1024) : NaN;
}

function mailEvent(i: number): string {
  return JSON.stringify({ receiversId: [`bench-user-${i % 100}`], category: 'CLIENT_PAYMENT_NOTIFICATION', reservationId: `RES-${i}` });
}

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return percentile(times, 50);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'communication-bench-'));
  await chmod(dir, 0o755);
  const postgres = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(join(dir, 'pg'), { database: 'bench' });
  const databaseUrl = process.env.DATABASE_URL ?? postgres!.url;
  const sink = await startSink();
  const children: ChildProcess[] = [];
  const report: string[] = [];
  try {
    // One key sends thousands of requests a minute: its rate limit is off (RATE_LIMIT_PER_MINUTE=0).
    const env = { DATABASE_URL: databaseUrl, SMTP_URL: sink.url, NODE_ENV: 'production', MAIL_FROM: 'Bench <bench@example.com>', API_KEYS: `bench:${BENCH_KEY}`, RATE_LIMIT_PER_MINUTE: '0' };
    const api = await startService({ ...env, RUN_MODE: 'api', PORT: String(await freePort()) });
    children.push(api.child);
    const pool = new Pool({ connectionString: databaseUrl, max: 10 });
    pool.on('error', () => undefined);
    for (let i = 0; i < 100; i++) {
      await fetch(`${api.url}/v1/recipients/bench-user-${i}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ email: `user${i}@example.com`, firstName: `User${i}` }) });
    }

    // 1. Accepting mails. A first mail creates the queue and warms both sides up.
    await fetch(`${api.url}/v1/mails`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: mailEvent(0) });
    const bare = await load(REQUESTS, CONCURRENCY, async (i) => {
      const client = await pool.connect();
      try {
        const mailId = randomUUID();
        const deliveryId = randomUUID();
        await client.query('BEGIN');
        await client.query(`INSERT INTO mail (id, category, receivers_id, reservation_id, status, correlation_id) VALUES ($1, 'CLIENT_PAYMENT_NOTIFICATION', $2, $3, 'PENDING', $4)`, [mailId, [`bench-user-${i % 100}`], `RES-${i}`, randomUUID()]);
        await client.query(`INSERT INTO delivery (id, mail_id, position, receiver_id, status, message_id) VALUES ($1, $2, 0, $3, 'PENDING', $4)`, [deliveryId, mailId, `bench-user-${i % 100}`, `<${deliveryId}@example.com>`]);
        await client.query(`INSERT INTO pgboss.job (name, data) VALUES ('mail-delivery', $1)`, [{ deliveryId, bench: true }]);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    });
    // The baseline's rows are not the service's: remove them before its worker could see them.
    await client(databaseUrl, (c) => c.query(`DELETE FROM pgboss.job WHERE name = 'mail-delivery' AND data ? 'bench'`));
    // node:http with keep-alive: a lighter client than fetch, since it shares the 2 cores with the service.
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const served = await load(REQUESTS, CONCURRENCY, async (i) => {
      const { status, body } = await post(`${api.url}/v1/mails`, mailEvent(i), agent);
      if (status !== 202) throw new Error(`POST /v1/mails answered ${status}: ${body}`);
    });
    agent.destroy();
    const bareRate = REQUESTS / bare.seconds;
    const servedRate = REQUESTS / served.seconds;
    report.push(
      `POST /v1/mails: ${servedRate.toFixed(0)} req/s, p50 ${percentile(served.latencies, 50).toFixed(1)} ms, p99 ${percentile(served.latencies, 99).toFixed(1)} ms ` +
        `(bare pg: ${bareRate.toFixed(0)} tx/s, p99 ${percentile(bare.latencies, 99).toFixed(1)} ms) → ${((servedRate / bareRate) * 100).toFixed(0)} % of bare (budget ≥ 50 %, p99 < 25 ms)`,
    );
    report.push(`API RSS after ${REQUESTS} mails: ${await rssMb(api.url)} MB (budget < 200 MB)`);

    // 2. Delivering them: a worker drains the backlog of step 1.
    const before = sink.count();
    const t0 = performance.now();
    const worker = await startService({ ...env, RUN_MODE: 'worker', PORT: String(await freePort()), DELIVERY_CONCURRENCY: '20', SMTP_POOL_SIZE: '5' });
    children.push(worker.child);
    while (sink.count() - before < REQUESTS) await new Promise((resolve) => setTimeout(resolve, 100));
    const workerRate = REQUESTS / ((performance.now() - t0) / 1000);
    const workerRss = await rssMb(worker.url);
    const transport = createTransport({ url: sink.url, pool: true, maxConnections: 5 } as never);
    const html = '<html><body><p>Bonjour,</p><p>Votre paiement a bien été reçu.</p></body></html>';
    const bareSend = await load(REQUESTS, 20, async (i) => {
      await transport.sendMail({ from: 'bench@example.com', to: `user${i % 100}@example.com`, subject: 'Paiement reçu', html, text: 'Votre paiement a bien été reçu.' });
    });
    transport.close();
    const bareSendRate = REQUESTS / bareSend.seconds;
    report.push(
      `Delivery: ${workerRate.toFixed(0)} mails/s including worker start (bare nodemailer pool: ${bareSendRate.toFixed(0)} mails/s) → ${((workerRate / bareSendRate) * 100).toFixed(0)} % of bare (budget ≥ 60 %)`,
    );
    report.push(`Worker RSS after ${REQUESTS} deliveries: ${workerRss} MB (budget < 200 MB)`);

    // 3. Lists at LIST_ROWS rows.
    await client(databaseUrl, async (c) => {
      await c.query(`
        INSERT INTO mail (id, category, receivers_id, reservation_id, organization_id, status, correlation_id, created_at)
        SELECT gen_random_uuid(), (ARRAY['CLIENT_PAYMENT_NOTIFICATION','PROFILE_COMPLETION_REQUEST','ORGANIZATION_CREATION_REQUEST'])[1 + g % 3],
               ARRAY['user-' || (g % 50000)], 'RES-' || g, 'ORG-' || (g % 1000), (ARRAY['SENT','FAILED','PENDING'])[1 + g % 3], 'bench',
               now() - (g || ' seconds')::interval
        FROM generate_series(1, $1) g`, [LIST_ROWS]);
      await c.query('ANALYZE mail');
    });
    const deepPage = Math.floor(LIST_ROWS / 10 / 2);
    const cases: Array<[string, string, string, unknown[]]> = [
      ['page 1', '', 'SELECT * FROM mail ORDER BY created_at DESC, id DESC LIMIT 10', []],
      [`page ${deepPage}`, `currentPage=${deepPage}`, 'SELECT * FROM mail ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET $1', [(deepPage - 1) * 10]],
      ['category', 'category=PROFILE_COMPLETION_REQUEST', 'SELECT * FROM mail WHERE category = $1 ORDER BY created_at DESC, id DESC LIMIT 10', ['PROFILE_COMPLETION_REQUEST']],
      ['status', 'status=FAILED', 'SELECT * FROM mail WHERE status = $1 ORDER BY created_at DESC, id DESC LIMIT 10', ['FAILED']],
      ['organizationId', 'organizationId=ORG-7', 'SELECT * FROM mail WHERE organization_id = $1 ORDER BY created_at DESC, id DESC LIMIT 10', ['ORG-7']],
      ['reservationId', 'reservationId=RES-4242', 'SELECT * FROM mail WHERE reservation_id = $1 ORDER BY created_at DESC, id DESC LIMIT 10', ['RES-4242']],
    ];
    await client(databaseUrl, async (c) => {
      for (const [name, query, sql, params] of cases) {
        const apiMs = await timeIt(5, async () => (await fetch(`${api.url}/v1/mails?${query}`, { headers: AUTH })).arrayBuffer());
        const rawMs = await timeIt(5, async () => {
          await c.query(sql, params);
          await c.query(sql.replace(/^SELECT \* FROM mail/, 'SELECT count(*) FROM mail').replace(/ ORDER BY.*$/, ''), params.length && !sql.includes('OFFSET') ? params : []);
        });
        const plan = (await c.query(`EXPLAIN ${sql}`, params)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join(' ');
        report.push(`GET /v1/mails ${name}: ${apiMs.toFixed(1)} ms (raw SQL page + count: ${rawMs.toFixed(1)} ms); plan uses ${/Index/.test(plan) ? 'an index' : 'NO INDEX'}`);
      }
    });
    report.push(`API RSS after the list runs: ${await rssMb(api.url)} MB`);
    await pool.end();
  } catch (error) {
    // Printed before the cleanup, whose own errors could otherwise hide the cause.
    console.error(error);
    process.exitCode = 1;
  } finally {
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM'))))));
    await sink.close();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\nBenchmark (${REQUESTS} requests, concurrency ${CONCURRENCY}, ${LIST_ROWS} rows for lists)\n- ${report.join('\n- ')}\n`);
}

async function client<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
