/**
 * `npm run bench`: every row of the target table of issue 9, each beside an honest reference
 * measured in the same run on the same machine (see README "Performance"):
 *
 *   start            spawn → /health/ready 200, median of 3 (reference: the empty app's start)
 *   GET /health      the service vs an empty Nest-on-Fastify app (bench/empty-app.ts)
 *   POST /v1/mails   64 keep-alive clients vs a bare `pg` pool writing the same rows; p99; RSS
 *   batch of 500     mails accepted per second (reference: bare multi-row inserts)
 *   delivery         a worker draining N queued mails vs a bare nodemailer pool (TCP_NODELAY, same
 *                    pool size, same sink); database round trips per mail through a counting proxy
 *   backlog          worker RSS over ~30 s with 1,000,000 PENDING deliveries
 *   lists            1,000,000 mails: page 1, each filter, `next` links, currentPage=50000 vs the
 *                    same SQL (captured from the service's own connection) through bare `pg`
 *   live             open event streams (RSS vs an empty app holding bare streams), fan-out of an
 *                    event to 1,000 subscribers, unread counts at 100,000 messages (bench/live.ts)
 *
 * The service runs as child processes (`node dist/src/main.js`, AUTH_MODE=on with an API key,
 * logs at info on a drained stdout pipe). Everything listens on 127.0.0.1. A failed target prints
 * FAIL and the bench goes on; it exits non-zero only when the bench itself broke.
 * Sizes and switches: see `settings` below (BENCH_* variables); BENCH_PROFILE=1 adds a CPU profile.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Pool } from 'pg';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { topFunctions } from './cpu-profile';
import {
  addRow,
  AUTH,
  BENCH_KEY,
  brokenRow,
  Child,
  envInt,
  fmt,
  httpCall,
  interleave,
  LoadResult,
  load,
  loadAvg,
  logBytes,
  median,
  notes,
  percentile,
  productionNodeFlags,
  rssMb,
  sampleRss,
  section,
  signalAll,
  sleep,
  startNode,
  startService,
  stopAll,
  table,
} from './harness';
import { startPgProxy } from './pg-proxy';
import { bareBatchInserts, bareMailInserts, bareNodemailer, mailEvent } from './references';
import { startSink, Sink } from './smtp-sink';
import { LIST_CATEGORIES, listRows } from './lists';
import { liveRows } from './live';
import { gcTail } from './gc-tail';

const settings = {
  concurrency: envInt('BENCH_CONCURRENCY', 64),
  postSeconds: envInt('BENCH_POST_SECONDS', 12),
  keySeconds: envInt('BENCH_KEY_SECONDS', 6),
  receivers: envInt('BENCH_RECEIVERS', 100),
  batches: envInt('BENCH_BATCHES', 24),
  batchConcurrency: envInt('BENCH_BATCH_CONCURRENCY', 2),
  deliveryMails: envInt('BENCH_DELIVERY_MAILS', 2000),
  roundTripMails: envInt('BENCH_ROUND_TRIP_MAILS', 500),
  smtpPoolSize: envInt('BENCH_SMTP_POOL_SIZE', 5),
  healthSeconds: envInt('BENCH_HEALTH_SECONDS', 6),
  /** Rows with a reference alternate the two sides in this many rounds (the machine's load drifts). */
  rounds: Math.max(1, envInt('BENCH_ROUNDS', 3)),
  startRuns: envInt('BENCH_START_RUNS', 3),
  listRows: envInt('BENCH_LIST_ROWS', 1_000_000),
  listCalls: envInt('BENCH_LIST_CALLS', 30),
  nextPages: envInt('BENCH_NEXT_PAGES', 200),
  deepPage: envInt('BENCH_DEEP_PAGE', 50_000),
  backlogSeconds: envInt('BENCH_BACKLOG_SECONDS', 30),
  webhookEvents: envInt('BENCH_WEBHOOK_EVENTS', 3000),
  streams: envInt('BENCH_STREAMS', 10_000),
  subscribers: envInt('BENCH_SUBSCRIBERS', 1000),
  events: envInt('BENCH_EVENTS', 50),
  unreadMessages: envInt('BENCH_UNREAD_MESSAGES', 100_000),
  settleMs: envInt('BENCH_SETTLE_MS', 15_000),
  profile: process.env.BENCH_PROFILE === '1',
  gc: process.env.BENCH_GC === '1',
  /** BENCH_ONLY=post,lists…: only these phases (start, health, post, batch, delivery, round-trips, webhooks, live, lists); all when unset. */
  only: (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((phase) => phase.trim())
    .filter(Boolean),
};

const runs = (phase: string): boolean => settings.only.length === 0 || settings.only.includes(phase);

async function main(): Promise<void> {
  const startLoad = loadavg();
  console.log(
    `communication bench — ${new Date().toISOString()} — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadAvg()} — node ${process.version}`,
  );
  console.log(
    `settings: ${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  console.log(`service: node ${[...productionNodeFlags(), 'dist/src/main.js'].join(' ')} (the flags of start:prod)`);
  const dir = await mkdtemp(join(tmpdir(), 'communication-bench-'));
  await chmod(dir, 0o755);
  let postgres: EmbeddedPostgres | undefined;
  let sink: Sink | undefined;
  const cleanup = async (): Promise<void> => {
    await stopAll();
    await sink?.close();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  // Interrupted: the children, Postgres and the temporary folder go too. (embedded-postgres stops
  // its server and exits on these signals itself; what is left is done at exit, synchronously.)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  }
  process.once('exit', () => {
    signalAll();
    rmSync(dir, { recursive: true, force: true });
  });
  postgres = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(join(dir, 'pg'), { database: 'bench' });
  const databaseUrl = process.env.DATABASE_URL ?? postgres!.url;
  sink = await startSink();
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    SMTP_URL: sink.url,
    NODE_ENV: 'production',
    AUTH_MODE: 'on',
    API_KEYS: `bench:${BENCH_KEY}`,
    // One key sends thousands of requests a minute: its rate limit is off.
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    MAIL_FROM: 'Bench <bench@example.com>',
    SMTP_POOL_SIZE: String(settings.smtpPoolSize),
  };
  let broken = false;
  try {
    // Each phase gets a database of its own, migrated by the service's first start in it: no phase
    // sees another's rows, and nothing is ever removed behind the service's back (its counters).
    await withDatabase(databaseUrl, 'bench_accept', async (url, db) => {
      if (runs('start')) await startRow({ ...env, DATABASE_URL: url });
      if (runs('health')) await healthRow({ ...env, DATABASE_URL: url });
      if (runs('post')) await postRows({ ...env, DATABASE_URL: url }, url, db, dir);
      if (runs('batch')) await batchRow({ ...env, DATABASE_URL: url }, url);
    });
    if (runs('delivery'))
      await withDatabase(databaseUrl, 'bench_delivery', (url, db) =>
        deliveryRow({ ...env, DATABASE_URL: url }, db, sink),
      );
    if (runs('round-trips'))
      await withDatabase(databaseUrl, 'bench_round_trips', (url, db) =>
        roundTripRow({ ...env, DATABASE_URL: url }, url, db),
      );
    if (runs('webhooks'))
      await withDatabase(databaseUrl, 'bench_webhooks', (url, db) => webhookRow({ ...env, DATABASE_URL: url }, db));
    if (runs('live'))
      await withDatabase(databaseUrl, 'bench_live', (url, db) => liveRows({ ...env, DATABASE_URL: url }, db, settings));
    if (runs('lists'))
      await withDatabase(databaseUrl, 'bench_lists', async (url, db) => {
        await (await startService({ ...env, DATABASE_URL: url, RUN_MODE: 'api' })).stop();
        await seedMillion(db);
        await backlogRow({ ...env, DATABASE_URL: url }, db);
        await listRows({ ...env, DATABASE_URL: url }, url, db, settings);
      });
  } catch (error) {
    // The bench itself broke (not a missed target): said before the cleanup, which could hide it.
    console.error(error);
    broken = true;
  } finally {
    await cleanup();
  }
  const endLoad = loadavg();
  console.log(`\n${table()}\n`);
  console.log(
    `${cpus().length} cores; load average (1/5/15 min) at start ${startLoad.map((v) => v.toFixed(2)).join(' ')}, at end ${endLoad.map((v) => v.toFixed(2)).join(' ')}; ${new Date().toISOString()}`,
  );
  if (notes.length) console.log(`\n${notes.join('\n')}`);
  if (broken) process.exitCode = 1;
}

/** Creates database `name` on the server of `serverUrl` (dropped first if a former run left it), runs `work` on it, drops it. */
async function withDatabase(
  serverUrl: string,
  name: string,
  work: (url: string, db: Pool) => Promise<void>,
): Promise<void> {
  const admin = async (sql: string): Promise<void> => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = new Pool({ connectionString: url.toString(), max: 4 });
  db.on('error', () => undefined);
  try {
    await work(url.toString(), db);
  } finally {
    await db.end();
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

/** Start: spawn → /health/ready 200, Postgres up and migrated (a first start migrates, untimed). */
async function startRow(env: Record<string, string>): Promise<void> {
  section('start');
  try {
    await (await startService({ ...env, RUN_MODE: 'api' })).stop();
    const ours: number[] = [];
    const empty: number[] = [];
    for (let i = 0; i < settings.startRuns; i++) {
      let t0 = performance.now();
      const service = await startService({ ...env });
      ours.push(performance.now() - t0);
      await service.stop();
      t0 = performance.now();
      const app = await startNode([join(__dirname, 'empty-app.js')], {});
      empty.push(performance.now() - t0);
      await app.stop();
    }
    const ms = median(ours);
    addRow({
      what: 'start: spawn → /health/ready 200 (median)',
      ours: `${fmt(ms)} ms`,
      reference: `${fmt(median(empty))} ms empty app`,
      ratio: `${fmt(ms / median(empty), 1)} ×`,
      target: '≤ 1,500 ms',
      pass: ms <= 1500,
      note: `runs ${ours.map((v) => fmt(v)).join(', ')} ms`,
    });
  } catch (error) {
    brokenRow('start', '≤ 1,500 ms', error);
  }
}

/** Framework overhead: GET /health, same client, same concurrency, healthSeconds each, alternated. */
async function healthRow(env: Record<string, string>): Promise<void> {
  section('GET /health');
  try {
    const service = await startService({ ...env, RUN_MODE: 'api' });
    const empty = await startNode([join(__dirname, 'empty-app.js')], {});
    const idle = { ours: rssMb(service.child.pid), empty: rssMb(empty.child.pid) };
    const agents = [
      new Agent({ keepAlive: true, maxSockets: settings.concurrency }),
      new Agent({ keepAlive: true, maxSockets: settings.concurrency }),
    ];
    const hit = (url: string, agent: Agent, seconds: number) => () =>
      load({ seconds }, settings.concurrency, async () => {
        const { status } = await httpCall(`${url}/health`, { agent });
        if (status !== 200) throw new Error(`GET /health answered ${status}`);
      });
    await hit(service.url, agents[0], 1)();
    await hit(empty.url, agents[1], 1)();
    const logsBefore = logBytes.total;
    const result = await interleave(settings.rounds, {
      ours: hit(service.url, agents[0], settings.healthSeconds / settings.rounds),
      empty: hit(empty.url, agents[1], settings.healthSeconds / settings.rounds),
    });
    const logged = logBytes.total - logsBefore;
    agents.forEach((agent) => agent.destroy());
    for (const side of [result.ours, result.empty])
      if (side.errors) throw new Error(`${side.errors} failed calls: ${side.firstError}`);
    const ours = result.ours.count / result.ours.seconds;
    const reference = result.empty.count / result.empty.seconds;
    addRow({
      what: `GET /health, ${settings.concurrency} keep-alive clients`,
      ours: `${fmt(ours)} req/s`,
      reference: `${fmt(reference)} req/s empty Nest-on-Fastify app`,
      ratio: `${fmt(ours / reference, 2)} ×`,
      target: '≥ 0.5 ×',
      pass: ours / reference >= 0.5,
      note: `${fmt(logged / 1024)} KB of logs written; idle RSS ${fmt(idle.ours)} MB vs ${fmt(idle.empty)} MB for the empty app`,
    });
    await service.stop();
    await empty.stop();
  } catch (error) {
    brokenRow('GET /health', '≥ 0.5 ×', error);
  }
}

/** Rows per table (exact counts: the tables are small before the million-row seed). */
async function rowCounts(db: Pool): Promise<Map<string, number>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
  );
  const counts = new Map<string, number>();
  for (const { name } of tables)
    counts.set(name, Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${name}"`)).rows[0].n));
  return counts;
}

function writesPerMail(written: Map<string, number>, mails: number): string {
  const parts: string[] = [];
  for (const [table, n] of written) if (n > 0) parts.push(`${table} ${fmt(n / mails, 2)}`);
  return parts.sort().join(', ') || 'none';
}

/** POST /v1/mails (with and without Idempotency-Key) vs bare pg; API RSS under that load; the profile. */
async function postRows(env: Record<string, string>, databaseUrl: string, db: Pool, dir: string): Promise<void> {
  section('POST /v1/mails');
  const profileDir = join(dir, 'profile');
  let service: Child | undefined;
  try {
    const gcLog = join(dir, 'gc.json');
    service = await startService({ ...env, RUN_MODE: 'api', ...(settings.gc ? { BENCH_GC_LOG: gcLog } : {}) }, [
      ...(settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...(settings.gc ? ['--require', join(__dirname, 'gc-log.js')] : []),
    ]);
    await putRecipients(service.url);
    const agent = new Agent({ keepAlive: true, maxSockets: settings.concurrency });
    const post = (seconds: number, withKeys: boolean): Promise<Awaited<ReturnType<typeof load>>> =>
      load({ seconds }, settings.concurrency, async (i) => {
        const headers: Record<string, string> = withKeys ? { ...AUTH, 'idempotency-key': `key-${randomUUID()}` } : AUTH;
        const { status, body } = await httpCall(`${service!.url}/v1/mails`, {
          method: 'POST',
          headers,
          agent,
          body: JSON.stringify(mailEvent(i, settings.receivers)),
        });
        if (status !== 202) throw new Error(`POST /v1/mails answered ${status}: ${body.slice(0, 200)}`);
      });
    // Warm-up of both sides (JIT, pools, caches), untimed.
    await post(2, false);
    await bareMailInserts(databaseUrl, 2, settings.concurrency, settings.receivers);

    // Each side's rows are counted around each of its rounds: both must write the same rows per mail.
    const sides = async (
      seconds: number,
      bareKey?: string,
    ): Promise<{ ours: LoadResult; bare: LoadResult; writes: { ours: string; bare: string } }> => {
      const written = { ours: new Map<string, number>(), bare: new Map<string, number>() };
      const counted = (side: 'ours' | 'bare', run: () => Promise<LoadResult>) => async (): Promise<LoadResult> => {
        const before = await rowCounts(db);
        const result = await run();
        const after = await rowCounts(db);
        for (const [table, n] of after)
          written[side].set(table, (written[side].get(table) ?? 0) + n - (before.get(table) ?? 0));
        return result;
      };
      const perRound = seconds / settings.rounds;
      const result = await interleave(settings.rounds, {
        bare: counted('bare', () =>
          bareMailInserts(databaseUrl, perRound, settings.concurrency, settings.receivers, bareKey),
        ),
        ours: counted('ours', () => post(perRound, bareKey !== undefined)),
      });
      return {
        ...result,
        writes: {
          ours: writesPerMail(written.ours, result.ours.count),
          bare: writesPerMail(written.bare, result.bare.count),
        },
      };
    };
    const rss = sampleRss(service.child.pid);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const { ours, bare, writes } = await sides(settings.postSeconds);
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const memory = rss.stop();
    if (ours.errors) throw new Error(`${ours.errors} requests failed: ${ours.firstError}`);
    const oursRate = ours.count / ours.seconds;
    const bareRate = bare.count / bare.seconds;
    addRow({
      what: `POST /v1/mails, ${settings.concurrency} clients, 1 receiver, no key: accepted/s`,
      ours: `${fmt(oursRate)} mails/s`,
      reference: `${fmt(bareRate)} tx/s bare pg (pool ${settings.concurrency}, BEGIN + 2 INSERT + COMMIT)`,
      ratio: `${fmt(oursRate / bareRate, 2)} ×`,
      target: '≥ 1.0 ×',
      pass: oursRate / bareRate >= 1,
      note: `rows written per mail: ours ${writes.ours}; bare ${writes.bare}; ${settings.rounds} alternated rounds`,
    });
    const p99 = percentile(ours.latencies, 99);
    addRow({
      what: 'POST /v1/mails p99 latency',
      ours: `${fmt(p99, 1)} ms (p50 ${fmt(percentile(ours.latencies, 50), 1)})`,
      reference: `${fmt(percentile(bare.latencies, 99), 1)} ms bare pg`,
      ratio: `${fmt(p99 / percentile(bare.latencies, 99), 2)} ×`,
      target: '≤ 25 ms',
      pass: p99 <= 25,
    });
    if (settings.gc) {
      await sleep(300); // the service writes its log four times a second
      notes.push(...gcTail(gcLog, ours));
    }
    addRow({
      what: 'API RSS under the POST load (max; min)',
      ours: `${fmt(memory.max)} MB (${fmt(memory.min)})`,
      reference: '–',
      ratio: '–',
      target: '≤ 150 MB',
      pass: memory.max <= 150,
      note: `${memory.samples} samples of VmRSS`,
    });

    if (settings.keySeconds > 0) {
      const sample = await httpCall(`${service.url}/v1/mails`, {
        method: 'POST',
        headers: AUTH,
        agent,
        body: JSON.stringify(mailEvent(0, settings.receivers)),
      });
      const { ours: keyed, bare: bareKeyed, writes: keyedWrites } = await sides(settings.keySeconds, sample.body);
      const keyedRate = keyed.count / keyed.seconds;
      const bareKeyedRate = bareKeyed.count / bareKeyed.seconds;
      addRow({
        what: 'POST /v1/mails with an Idempotency-Key each',
        ours: `${fmt(keyedRate)} mails/s, p99 ${fmt(percentile(keyed.latencies, 99), 1)} ms`,
        reference: `${fmt(bareKeyedRate)} tx/s bare pg (+ idempotency_key row)`,
        ratio: `${fmt(keyedRate / bareKeyedRate, 2)} ×`,
        target: 'info (≥ 1.0 × like the main row)',
        pass: null,
        note: `rows written per mail: ours ${keyedWrites.ours}; bare ${keyedWrites.bare}${keyed.errors ? `; ${keyed.errors} failed: ${keyed.firstError}` : ''}`,
      });
    }
    agent.destroy();
    await service.stop();
    if (settings.profile) {
      const files = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile'));
      if (!files.length) {
        notes.push('BENCH_PROFILE=1: the API wrote no .cpuprofile (did it exit normally?)');
      } else {
        const { top, totalMs, idleMs, windowed } = topFunctions(join(profileDir, files[0]), 15, fromUs, toUs);
        notes.push(
          `CPU profile of the API during the POST /v1/mails load (${windowed ? 'load window only' : 'whole process'}, ${fmt(totalMs)} ms of CPU sampled, ${fmt(idleMs)} ms idle), top 15 by self time:`,
          ...top.map((f) => `  ${fmt(f.percent, 1).padStart(5)} %  ${fmt(f.selfMs).padStart(7)} ms  ${f.name}`),
        );
      }
    }
  } catch (error) {
    await service?.stop();
    brokenRow('POST /v1/mails', '≥ 1.0 ×, p99 ≤ 25 ms', error);
  }
}

function batchBody(b: number, size: number): string {
  return JSON.stringify(Array.from({ length: size }, (_, j) => mailEvent(b * size + j, settings.receivers)));
}

/** POST /v1/mails/batch of 500: mails accepted per second. */
async function batchRow(env: Record<string, string>, databaseUrl: string): Promise<void> {
  section('POST /v1/mails/batch');
  try {
    const service = await startService({ ...env, RUN_MODE: 'api' });
    const agent = new Agent({ keepAlive: true, maxSockets: settings.batchConcurrency });
    const bodies = Array.from({ length: Math.min(settings.batches, 10) }, (_, b) => batchBody(b, 500));
    const send = async (b: number): Promise<void> => {
      const { status, body } = await httpCall(`${service.url}/v1/mails/batch`, {
        method: 'POST',
        headers: AUTH,
        agent,
        body: bodies[b % bodies.length],
      });
      if (status !== 200) throw new Error(`POST /v1/mails/batch answered ${status}: ${body.slice(0, 200)}`);
      const accepted = (JSON.parse(body) as { results: Array<{ status: number }> }).results.filter(
        (r) => r.status === 202,
      ).length;
      if (accepted !== 500) throw new Error(`a batch of 500 had ${accepted} accepted`);
    };
    await load({ total: 2 }, 1, send);
    const perRound = Math.max(1, Math.round(settings.batches / settings.rounds));
    const { ours, bare } = await interleave(settings.rounds, {
      ours: () => load({ total: perRound }, settings.batchConcurrency, send),
      bare: () => bareBatchInserts(databaseUrl, perRound, 500, settings.batchConcurrency, settings.receivers),
    });
    agent.destroy();
    await service.stop();
    if (ours.errors) throw new Error(`${ours.errors} batches failed: ${ours.firstError}`);
    const oursRate = (ours.count * 500) / ours.seconds;
    const bareRate = (bare.count * 500) / bare.seconds;
    addRow({
      what: `POST /v1/mails/batch of 500, ${settings.batchConcurrency} clients: mails accepted/s`,
      ours: `${fmt(oursRate)} mails/s`,
      reference: `${fmt(bareRate)} mails/s bare pg (2 unnest INSERTs per 500)`,
      ratio: `${fmt(oursRate / bareRate, 2)} ×`,
      target: '≥ 20,000 mails/s',
      pass: oursRate >= 20_000,
      note: `p99 ${fmt(percentile(ours.latencies, 99))} ms per batch`,
    });
  } catch (error) {
    brokenRow('POST /v1/mails/batch of 500', '≥ 20,000 mails/s', error);
  }
}

/** The receivers of the bench's mails, through the API (each phase has its own database). */
async function putRecipients(url: string): Promise<void> {
  for (let i = 0; i < settings.receivers; i++) {
    const { status } = await httpCall(`${url}/v1/recipients/bench-user-${i}`, {
      method: 'PUT',
      headers: AUTH,
      body: JSON.stringify({ email: `user${i}@example.com`, firstName: `User${i}` }),
    });
    if (status >= 300) throw new Error(`PUT /v1/recipients answered ${status}`);
  }
}

/** Queues `count` mails through the batch endpoint of a RUN_MODE=api service (no worker runs). */
async function queueMails(env: Record<string, string>, count: number): Promise<void> {
  const service = await startService({ ...env, RUN_MODE: 'api' });
  try {
    await putRecipients(service.url);
    for (let b = 0; b * 500 < count; b++) {
      const size = Math.min(500, count - b * 500);
      const { status, body } = await httpCall(`${service.url}/v1/mails/batch`, {
        method: 'POST',
        headers: AUTH,
        body: batchBody(b, size),
      });
      if (status !== 200) throw new Error(`POST /v1/mails/batch answered ${status}: ${body.slice(0, 200)}`);
    }
  } finally {
    await service.stop();
  }
}

async function waitAllSent(db: Pool, count: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ sent: string; other: string }>(
      `SELECT count(*) FILTER (WHERE status = 'SENT') AS sent, count(*) FILTER (WHERE status = 'FAILED') AS other FROM delivery`,
    );
    if (Number(rows[0].sent) >= count) return;
    if (Number(rows[0].other) > 0) throw new Error(`${rows[0].other} deliveries FAILED`);
    if (performance.now() > deadline)
      throw new Error(`only ${rows[0].sent} of ${count} deliveries SENT after ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

/** Delivery vs a bare nodemailer pool. */
async function deliveryRow(env: Record<string, string>, db: Pool, sink: Sink): Promise<void> {
  section('delivery');
  const n = settings.deliveryMails;
  try {
    await queueMails(env, n);
    const t0 = performance.now();
    const worker = await startService({ ...env, RUN_MODE: 'worker' });
    await waitAllSent(db, n, 300_000);
    const oursRate = n / ((performance.now() - t0) / 1000);
    await worker.stop();
    const message = sink.sample();
    if (!message) throw new Error('the sink received nothing');
    const bareRate = await bareNodemailer(sink.port, settings.smtpPoolSize, n, message);
    addRow({
      what: `delivery of ${fmt(n)} queued mails to a local SMTP sink (worker spawn → all SENT)`,
      ours: `${fmt(oursRate)} mails/s`,
      reference: `${fmt(bareRate)} mails/s bare nodemailer pool (${settings.smtpPoolSize} connections, TCP_NODELAY, same bytes)`,
      ratio: `${fmt(oursRate / bareRate, 2)} ×`,
      target: '≥ 0.8 ×',
      pass: oursRate / bareRate >= 0.8,
      note: `${fmt(message.raw.length / 1024, 1)} KB per message`,
    });
  } catch (error) {
    brokenRow('delivery', '≥ 0.8 ×', error);
  }
}

/**
 * Webhook calls per second to a local receiver that answers 204 at once: events written by SQL
 * (each queues one call per subscribed endpoint, as a change of the service does), then a worker
 * started and timed until every call was answered. Not in production mode, which admits https
 * targets only; private targets allowed (the receiver is on 127.0.0.1), one endpoint taking all
 * the worker's calls in flight.
 */
async function webhookRow(env: Record<string, string>, db: Pool): Promise<void> {
  section('webhooks');
  const n = settings.webhookEvents;
  let answered = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      answered++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhookEnv = {
    ...env,
    NODE_ENV: 'development',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_CONCURRENCY: '64',
    WEBHOOK_ENDPOINT_CONCURRENCY: '64',
  };
  try {
    const api = await startService({ ...webhookEnv, RUN_MODE: 'api' });
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const created = await httpCall(`${api.url}/v1/webhooks`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ url, events: ['contact.created'] }),
    });
    await api.stop();
    if (created.status !== 201) throw new Error(`POST /v1/webhooks answered ${created.status}: ${created.body}`);
    await db.query(
      `INSERT INTO event (type, data) SELECT 'contact.created', jsonb_build_object('id', g, 'message', 'Bonjour') FROM generate_series(1, $1) g`,
      [n],
    );
    const t0 = performance.now();
    const worker = await startService({ ...webhookEnv, RUN_MODE: 'worker' });
    for (const deadline = Date.now() + 300_000; answered < n && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const rate = answered / ((performance.now() - t0) / 1000);
    await worker.stop();
    addRow({
      what: `webhook calls to a local receiver (${fmt(n)} events queued, worker spawn → all answered)`,
      ours: `${fmt(rate)} calls/s`,
      reference: '–',
      ratio: '–',
      target: '≥ 500 calls/s',
      pass: answered >= n && rate >= 500,
      note: answered < n ? `only ${fmt(answered)} of ${fmt(n)} answered in 5 min` : undefined,
    });
  } catch (error) {
    brokenRow('webhooks', '≥ 500 calls/s', error);
  } finally {
    receiver.close();
  }
}

/** Database round trips per delivered mail, counted by a proxy between the worker and Postgres. */
async function roundTripRow(env: Record<string, string>, databaseUrl: string, db: Pool): Promise<void> {
  section('database round trips of the worker');
  try {
    const m = settings.roundTripMails;
    await queueMails(env, m);
    const proxy = await startPgProxy(databaseUrl);
    let trips: number;
    try {
      const worker = await startService({ ...env, RUN_MODE: 'worker', DATABASE_URL: proxy.url });
      try {
        await waitAllSent(db, m, 300_000);
        trips = proxy.roundTrips();
      } finally {
        await worker.stop();
      }
    } finally {
      await proxy.close();
    }
    addRow({
      what: `database round trips per delivered mail (worker, ${fmt(m)} mails, its start included)`,
      ours: `${fmt(trips / m, 2)}`,
      reference: '–',
      ratio: '–',
      target: '≤ 3',
      pass: trips / m <= 3,
      note: `${fmt(trips)} Sync/Query messages from spawn to all SENT`,
    });
  } catch (error) {
    brokenRow('database round trips per mail', '≤ 3', error);
  }
}

/**
 * 1,000,000 PENDING mails with one PENDING delivery each, over ~11 days, and 50,000 recipients,
 * by SQL (`generate_series`), then VACUUM ANALYZE as autovacuum would do in time.
 */
async function seedMillion(db: Pool): Promise<void> {
  section(`seeding ${fmt(settings.listRows)} mails by SQL`);
  const t0 = performance.now();
  // Indexes are built once after the insert rather than updated row by row (several times faster);
  // the ones that back constraints stay. Each is rebuilt from its own definition, whatever it is.
  // Ids ascend with g so the primary keys grow at their end (random ids: the same lists, a slower seed).
  const client = await db.connect();
  try {
    await client.query(`SET maintenance_work_mem = '256MB'`);
    const { rows: indexes } = await client.query<{ name: string; definition: string }>(
      `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
       WHERE i.schemaname = 'public' AND i.tablename IN ('mail', 'delivery')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`,
    );
    for (const index of indexes) await client.query(`DROP INDEX "${index.name}"`);
    await client.query(
      `INSERT INTO recipient (id, email, first_name) SELECT 'user-' || g, 'user' || g || '@example.com', 'User' || g FROM generate_series(0, 49999) g ON CONFLICT DO NOTHING`,
    );
    await client.query(
      `INSERT INTO mail (id, category, receivers_id, publication_id, reservation_id, organization_id, establishment_id, status, correlation_id,
                         deliveries_total, created_at, updated_at)
       SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, ($2::text[])[1 + g % array_length($2::text[], 1)], ARRAY['user-' || (g % 50000)], 'PUB-' || (g % 20000),
              'RES-' || g, 'ORG-' || (g % 1000), 'EST-' || (g % 5000), 'PENDING', 'bench-seed', 1,
              now() - make_interval(secs => g), now() - make_interval(secs => g)
       FROM generate_series(1, $1) g`,
      [settings.listRows, LIST_CATEGORIES],
    );
    await client.query(
      `INSERT INTO delivery (id, mail_id, position, receiver_id, status, message_id, due_at, first_due_at, updated_at)
       SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(g), 12, '0'))::uuid, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 0,
              'user-' || (g % 50000), 'PENDING', '<' || g || '@bench.example.com>',
              now() - make_interval(secs => g), now() - make_interval(secs => g), now()
       FROM generate_series(1, $1) g`,
      [settings.listRows],
    );
    for (const index of indexes) await client.query(index.definition);
  } finally {
    client.release();
  }
  await db.query('VACUUM ANALYZE');
  console.log(`  seeded in ${fmt((performance.now() - t0) / 1000, 1)} s`);
}

/** Worker RSS for ~30 s with a 1,000,000-delivery backlog: max, min, flat or not. */
async function backlogRow(env: Record<string, string>, db: Pool): Promise<void> {
  section('worker with a 1,000,000-delivery backlog');
  try {
    const worker = await startService({ ...env, RUN_MODE: 'worker' });
    const rss = sampleRss(worker.child.pid, 500);
    const firstHalf: number[] = [];
    const half = settings.backlogSeconds / 2;
    await sleep(half * 1000);
    firstHalf.push(rssMb(worker.child.pid));
    await sleep(half * 1000);
    const memory = rss.stop();
    const last = rssMb(worker.child.pid);
    await worker.stop();
    const { rows } = await db.query<{ sent: string }>(`SELECT count(*) AS sent FROM delivery WHERE status = 'SENT'`);
    addRow({
      what: `worker RSS over ${settings.backlogSeconds} s with a ${fmt(settings.listRows)}-delivery backlog (max; min)`,
      ours: `${fmt(memory.max)} MB (${fmt(memory.min)})`,
      reference: '–',
      ratio: '–',
      target: '≤ 180 MB, flat',
      pass: memory.max <= 180,
      note: `${memory.samples} samples; at ${half} s ${fmt(firstHalf[0])} MB, at the end ${fmt(last)} MB; ${fmt(Number(rows[0].sent))} sent meanwhile`,
    });
    await db.query('VACUUM ANALYZE');
  } catch (error) {
    brokenRow('worker RSS with a backlog', '≤ 180 MB', error);
  }
}

main().then(
  // Whatever a broken row left open (a socket, a timer), the bench ends with its report.
  () => process.exit(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
