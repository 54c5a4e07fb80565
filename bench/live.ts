/* eslint-disable no-console */
/**
 * `npx nest build && node dist/bench/live.js`: the budgets of live conversations (issue 11).
 *
 *   1. Open streams: BENCH_STREAMS (default 10000) participant event streams held by one API
 *      instance, and its RSS before and after (budget: <= 100 MB more for 10,000).
 *   2. Fan-out: BENCH_SUBSCRIBERS (1000) streams on one conversation, BENCH_EVENTS (50) messages
 *      posted to it; latency from the POST to each subscriber's receipt (budget: p99 <= 200 ms).
 *   3. Unread counts at BENCH_UNREAD_MESSAGES (100000) messages of one participant (half of them
 *      read, across 200 conversations, written in bulk: the counters follow by trigger):
 *      GET /v1/participants/{id}/unread and a list with unreadCount, p50/p99, and the plan.
 *
 * The service runs as a child process (`node <start:prod flags> dist/src/main.js`, NODE_ENV=production, RUN_MODE=api),
 * against DATABASE_URL or an embedded Postgres. Streams are opened from this process: it needs a
 * file-descriptor limit above BENCH_STREAMS (ulimit -n), as the service does.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { Agent, ClientRequest, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { freePort, startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { productionNodeFlags } from './harness';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 10_000);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50);
const UNREAD_MESSAGES = Number(process.env.BENCH_UNREAD_MESSAGES ?? 100_000);
const ROOT = join(__dirname, '..', '..');
const KEY = `bench_${randomUUID()}`;
const AUTH = { authorization: `Bearer ${KEY}` };
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function startService(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...productionNodeFlags(), join(ROOT, 'dist', 'src', 'main.js')], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('communication is running')) resolve({ child, url: `http://127.0.0.1:${env.PORT}` });
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
}

async function rssMb(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: AUTH })).text();
  const match = /^process_resident_memory_bytes (\d+)/m.exec(text);
  return match ? Math.round(Number(match[1]) / 1024 / 1024) : NaN;
}

async function heapMb(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: AUTH })).text();
  const match = /^nodejs_heap_size_used_bytes (\d+)/m.exec(text);
  return match ? Math.round(Number(match[1]) / 1024 / 1024) : NaN;
}

async function api<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(url + path, { method, headers: { ...AUTH, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** An open stream; `onEvent` gets each event's data as it arrives. */
function openStream(url: string, onEvent: (type: string, data: string) => void = () => undefined): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { ...AUTH, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream ${url}: ${res.statusCode}`));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type && data) onEvent(type, data);
        }
      });
      resolve(req);
    });
    req.on('error', reject);
    req.end();
  });
}

async function conversation(url: string, customerId: string, agentId: string): Promise<string> {
  const body = await api<{ id: string }>(url, 'POST', '/v1/conversations', { tripPublicationId: 'TRIP-1', tripReference: `VOY-${customerId}`, establishmentId: 'EST-1', customerId, assignedAgentId: agentId });
  return body.id;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'communication-bench-live-'));
  await chmod(dir, 0o755);
  const postgres = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(join(dir, 'pg'), { database: 'bench' });
  const databaseUrl = process.env.DATABASE_URL ?? postgres!.url;
  const children: ChildProcess[] = [];
  const streams: ClientRequest[] = [];
  const report: string[] = [];
  try {
    const env = { DATABASE_URL: databaseUrl, SMTP_URL: 'smtp://127.0.0.1:1', NODE_ENV: 'production', API_KEYS: `bench:${KEY}`, RATE_LIMIT_PER_MINUTE: '0', RUN_MODE: 'api' };
    const service = await startService({ ...env, PORT: String(await freePort()) });
    children.push(service.child);

    // 1. Open streams.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const before = await rssMb(service.url);
    const heapBefore = await heapMb(service.url);
    for (let i = 0; i < STREAMS; i += 200) {
      const batch = Array.from({ length: Math.min(200, STREAMS - i) }, (_, j) => openStream(`${service.url}/v1/participants/bench-p-${i + j}/events`));
      streams.push(...(await Promise.all(batch)));
    }
    // Time for the garbage of 10,000 request set-ups to be collected before measuring.
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.BENCH_SETTLE_MS ?? 15_000)));
    const after = await rssMb(service.url);
    const heapAfter = await heapMb(service.url);
    report.push(`${STREAMS} open streams: RSS ${before} MB -> ${after} MB (+${after - before} MB; budget +100 MB for 10,000), heap used ${heapBefore} -> ${heapAfter} MB`);
    for (const stream of streams.splice(0)) stream.destroy();

    // 2. Fan-out latency to SUBSCRIBERS streams of one conversation.
    const id = await conversation(service.url, 'bench-customer', 'bench-agent');
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    for (let i = 0; i < SUBSCRIBERS; i += 200) {
      const batch = Array.from({ length: Math.min(200, SUBSCRIBERS - i) }, () =>
        openStream(`${service.url}/v1/conversations/${id}/events`, (type, data) => {
          if (type !== 'message.created') return;
          const start = sentAt.get(/"content":"(bench \d+)"/.exec(data)?.[1] ?? '');
          if (start !== undefined) latencies.push(performance.now() - start);
        }),
      );
      streams.push(...(await Promise.all(batch)));
    }
    const posts: number[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const content = `bench ${i}`;
      const t0 = performance.now();
      sentAt.set(content, t0);
      await api(service.url, 'POST', `/v1/conversations/${id}/messages`, { transmitterId: 'bench-agent', content });
      posts.push(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    report.push(
      `event to ${SUBSCRIBERS} subscribers (${EVENTS} events, ${latencies.length}/${SUBSCRIBERS * EVENTS} received): p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (budget p99 <= 200 ms; from the POST, which itself took p50 ${percentile(posts, 50).toFixed(1)} ms)`,
    );
    for (const stream of streams.splice(0)) stream.destroy();

    // 3. Unread counts at UNREAD_MESSAGES messages of one participant, written in bulk.
    const conversations: string[] = [];
    for (let i = 0; i < 200; i++) conversations.push(await conversation(service.url, 'bench-reader', `bench-agent-${i}`));
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    try {
      await pg.query(
        `INSERT INTO conversation_message (id, conversation_id, sending_date, transmitter_id, receiver_id, transmitter_type, content, content_type, status, received_date, correlation_id)
         SELECT gen_random_uuid(), c.id, now() - make_interval(secs => n), 'bench-agent', 'bench-reader', 'AGENT', 'bench', 'TEXT',
                CASE WHEN n % 2 = 0 THEN 'READ' ELSE 'SENT' END, NULL, 'bench'
         FROM generate_series(1, $1::int) n JOIN LATERAL (SELECT ($2::uuid[])[1 + n % 200] AS id) c ON true`,
        [UNREAD_MESSAGES, conversations],
      );
      await pg.query('ANALYZE conversation_message');
      await pg.query('ANALYZE unread_count');
      const plan = await pg.query(`EXPLAIN SELECT sum(n) FROM unread_count WHERE participant_id = 'bench-reader' AND n > 0`);
      report.push(`plan of the counts: ${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN'].trim()).join(' / ')}`);
    } finally {
      await pg.end();
    }
    for (const [label, path] of [
      ['GET /v1/participants/{id}/unread', '/v1/participants/bench-reader/unread'],
      ['GET /v1/conversations?participantId= (unreadCount)', '/v1/conversations?participantId=bench-reader&sizePage=20'],
    ]) {
      const times: number[] = [];
      let total = 0;
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        const body = await api<{ totalUnread?: number }>(service.url, 'GET', path);
        times.push(performance.now() - t0);
        total = body.totalUnread ?? total;
      }
      report.push(`${label} at ${UNREAD_MESSAGES} messages${total ? ` (${total} unread)` : ''}: p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms`);
    }
  } finally {
    for (const stream of streams) stream.destroy();
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\nLive conversations benchmark\n- ${report.join('\n- ')}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
