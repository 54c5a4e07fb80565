/**
 * The rows of live conversations (issue 11), a phase of `npm run bench` (`BENCH_ONLY=live`):
 *
 *   1. Open streams: BENCH_STREAMS (10,000) participant event streams held by one API instance;
 *      its RSS before and after, beside an empty Nest-on-Fastify app holding as many bare streams
 *      (budget: ≤ 100 MB more for 10,000).
 *   2. Fan-out: BENCH_SUBSCRIBERS (1,000) streams on one conversation, BENCH_EVENTS (50) messages
 *      posted to it; latency from the POST to each subscriber's receipt (budget: p99 ≤ 200 ms).
 *   3. Unread counts at BENCH_UNREAD_MESSAGES (100,000) messages of one participant (half of them
 *      read, across 200 conversations, written in bulk: the counters follow by trigger):
 *      GET /v1/participants/{id}/unread and a list with unreadCount, p50/p99, and the plan.
 *
 * Streams are opened from the bench's process: it needs a file-descriptor limit above
 * BENCH_STREAMS (ulimit -n), as the service does.
 */
import { ClientRequest, Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import {
  addRow,
  AUTH,
  brokenRow,
  fmt,
  notes,
  percentile,
  productionNodeFlags,
  rssMb,
  section,
  sleep,
  startNode,
  startService,
} from './harness';

export interface LiveSettings {
  streams: number;
  subscribers: number;
  events: number;
  unreadMessages: number;
  /** Time for the garbage of the streams' set-up to be collected before the RSS is read. */
  settleMs: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

async function api<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(url + path, {
    method,
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** An open stream; `onEvent` gets each event's name and data as it arrives. */
function openStream(
  url: string,
  onEvent: (type: string, data: string) => void = () => undefined,
): Promise<ClientRequest> {
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

/** Opens `count` streams (200 at a time) on the URLs `urlOf(i)` gives. */
async function openStreams(
  count: number,
  urlOf: (i: number) => string,
  onEvent?: (type: string, data: string) => void,
): Promise<ClientRequest[]> {
  const streams: ClientRequest[] = [];
  for (let i = 0; i < count; i += 200) {
    streams.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(200, count - i) }, (_, j) => openStream(urlOf(i + j), onEvent)),
      )),
    );
  }
  return streams;
}

/**
 * RSS of a process before and after it holds `count` streams (opened, settled, then closed). A
 * first round of 500 streams, closed before `before` is read, keeps what the first requests load
 * once (code compiled, pools, caches) out of the memory per stream.
 */
async function streamMemory(
  pid: number | undefined,
  count: number,
  settleMs: number,
  urlOf: (i: number) => string,
): Promise<{ before: number; after: number }> {
  for (const stream of await openStreams(Math.min(500, count), urlOf)) stream.destroy();
  await sleep(Math.min(settleMs, 5000));
  const before = rssMb(pid);
  const streams = await openStreams(count, urlOf);
  await sleep(settleMs);
  const after = rssMb(pid);
  for (const stream of streams) stream.destroy();
  return { before, after };
}

async function conversation(url: string, customerId: string, agentId: string): Promise<string> {
  const body = await api<{ id: string }>(url, 'POST', '/v1/conversations', {
    tripPublicationId: 'TRIP-1',
    tripReference: `VOY-${customerId}`,
    establishmentId: 'EST-1',
    customerId,
    assignedAgentId: agentId,
  });
  return body.id;
}

export async function liveRows(env: Record<string, string>, db: Pool, settings: LiveSettings): Promise<void> {
  section('live conversations');
  const service = await startService({ ...env, RUN_MODE: 'api' });
  try {
    try {
      const empty = await startNode([join(__dirname, 'empty-app.js')], {}, { nodeOptions: productionNodeFlags() });
      const reference = await streamMemory(
        empty.child.pid,
        settings.streams,
        settings.settleMs,
        () => `${empty.url}/events`,
      );
      await empty.stop();
      const ours = await streamMemory(
        service.child.pid,
        settings.streams,
        settings.settleMs,
        (i) => `${service.url}/v1/participants/bench-p-${i}/events`,
      );
      const added = ours.after - ours.before;
      addRow({
        what: `${fmt(settings.streams)} open event streams: RSS added`,
        ours: `+${fmt(added)} MB (${fmt(ours.before)} → ${fmt(ours.after)})`,
        reference: `+${fmt(reference.after - reference.before)} MB empty Nest-on-Fastify app holding bare streams`,
        ratio: `${fmt(added / (reference.after - reference.before), 2)} ×`,
        target: '≤ +100 MB for 10,000',
        pass: added <= (100 * settings.streams) / 10_000,
        note: `RSS read ${fmt(settings.settleMs / 1000)} s after the last stream opened; both with the start:prod flags`,
      });
    } catch (error) {
      brokenRow('open event streams', '≤ +100 MB for 10,000', error);
    }

    try {
      const id = await conversation(service.url, 'bench-customer', 'bench-agent');
      const sentAt = new Map<string, number>();
      const latencies: number[] = [];
      const streams = await openStreams(
        settings.subscribers,
        () => `${service.url}/v1/conversations/${id}/events`,
        (type, data) => {
          if (type !== 'message.created') return;
          const start = sentAt.get(/"content":"(bench \d+)"/.exec(data)?.[1] ?? '');
          if (start !== undefined) latencies.push(performance.now() - start);
        },
      );
      for (let i = 0; i < settings.events; i++) {
        const content = `bench ${i}`;
        sentAt.set(content, performance.now());
        await api(service.url, 'POST', `/v1/conversations/${id}/messages`, { transmitterId: 'bench-agent', content });
        await sleep(100);
      }
      await sleep(2000);
      for (const stream of streams) stream.destroy();
      const expected = settings.subscribers * settings.events;
      const p99 = percentile(latencies, 99);
      addRow({
        what: `an event to ${fmt(settings.subscribers)} subscribers of one conversation (${settings.events} messages posted): POST → received`,
        ours: `p99 ${fmt(p99, 1)} ms (p50 ${fmt(percentile(latencies, 50), 1)})`,
        reference: '–',
        ratio: '–',
        target: '≤ 200 ms, every event received',
        pass: p99 <= 200 && latencies.length === expected,
        note: `${fmt(latencies.length)}/${fmt(expected)} received`,
      });
    } catch (error) {
      brokenRow('event fan-out', '≤ 200 ms', error);
    }

    try {
      const conversations: string[] = [];
      for (let i = 0; i < 200; i++)
        conversations.push(await conversation(service.url, 'bench-reader', `bench-agent-${i}`));
      await db.query(
        `INSERT INTO conversation_message (id, conversation_id, sending_date, transmitter_id, receiver_id, transmitter_type, content, content_type, status, received_date, correlation_id)
         SELECT gen_random_uuid(), c.id, now() - make_interval(secs => n), 'bench-agent', 'bench-reader', 'AGENT', 'bench', 'TEXT',
                CASE WHEN n % 2 = 0 THEN 'READ' ELSE 'SENT' END, NULL, 'bench'
         FROM generate_series(1, $1::int) n JOIN LATERAL (SELECT ($2::uuid[])[1 + n % 200] AS id) c ON true`,
        [settings.unreadMessages, conversations],
      );
      await db.query('ANALYZE conversation_message');
      await db.query('ANALYZE unread_count');
      const plan = await db.query(
        `EXPLAIN SELECT sum(n) FROM unread_count WHERE participant_id = 'bench-reader' AND n > 0`,
      );
      notes.push(
        `plan of the unread counts: ${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN'].trim()).join(' / ')}`,
      );
      for (const [label, path] of [
        ['GET /v1/participants/{id}/unread', '/v1/participants/bench-reader/unread'],
        [
          'GET /v1/conversations?participantId= (with unreadCount)',
          '/v1/conversations?participantId=bench-reader&sizePage=20',
        ],
      ]) {
        const times: number[] = [];
        let total = 0;
        for (let i = 0; i < 30; i++) {
          const t0 = performance.now();
          const body = await api<{ totalUnread?: number }>(service.url, 'GET', path);
          times.push(performance.now() - t0);
          total = body.totalUnread ?? total;
        }
        const p99 = percentile(times, 99);
        addRow({
          what: `${label} at ${fmt(settings.unreadMessages)} messages of one participant: p99 of 30`,
          ours: `${fmt(p99, 1)} ms (p50 ${fmt(percentile(times, 50), 1)})`,
          reference: '–',
          ratio: '–',
          target: '≤ 25 ms',
          pass: p99 <= 25,
          note: total ? `${fmt(total)} unread` : undefined,
        });
      }
    } catch (error) {
      brokenRow('unread counts', '≤ 25 ms', error);
    }
  } finally {
    await service.stop();
  }
}
