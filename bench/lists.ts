/**
 * The list rows at 1,000,000 mails: page 1 and each filter (p99, `totalElements` checked against
 * `count(*)`), `next` links followed from page 1, and `currentPage=N` typed by hand against the
 * very statements the service sent for it (recorded by a proxy on its database connection)
 * replayed through bare `pg`. The plan of each filter's statements is printed (EXPLAIN).
 */
import { Pool, Client } from 'pg';
import { performance } from 'node:perf_hooks';
import { addRow, AUTH, brokenRow, fmt, httpCall, median, notes, percentile, section, startService } from './harness';
import { CapturedStatement, startPgProxy } from './pg-proxy';
import { BENCH_CATEGORY } from './references';

export const LIST_CATEGORIES = [
  'PROFILE_COMPLETION_REQUEST',
  'ORGANIZATION_CREATION_REQUEST',
  'ESTABLISHMENT_CREATION_REQUEST',
  'TRIP_PUBLICATION_NOTIFICATION',
  'CLIENT_TRIP_BOOKING_NOTIFICATION',
  'PARTNER_PAYMENT_NOTIFICATION',
  BENCH_CATEGORY,
  'TRIP_REMINDER_NOTIFICATION',
];

interface ListSettings {
  listRows: number;
  listCalls: number;
  nextPages: number;
  deepPage: number;
}

interface Filter {
  name: string;
  /** The query string of call i (values vary between calls). */
  query(i: number): string;
  /** The WHERE clause and parameters of the same set, for the `count(*)` check. */
  where(i: number): [string, unknown[]];
}

const DAY = 86_400_000;

function filters(seededAt: number): Filter[] {
  const eq = (name: string, column: string, value: (i: number) => string): Filter => ({
    name,
    query: (i) => `${name}=${encodeURIComponent(value(i))}`,
    where: (i) => [`WHERE ${column} = $1`, [value(i)]],
  });
  const day = (i: number): [string, string] => [
    new Date(seededAt - ((i % 10) + 1) * DAY).toISOString(),
    new Date(seededAt - (i % 10) * DAY).toISOString(),
  ];
  return [
    { name: 'page 1', query: () => '', where: () => ['', []] },
    eq('category', 'category', (i) => LIST_CATEGORIES[i % LIST_CATEGORIES.length]),
    eq('status', 'status', (i) => (i % 2 ? 'SENT' : 'PENDING')),
    {
      name: 'receiverId',
      query: (i) => `receiverId=user-${(i * 7919) % 50000}`,
      where: (i) => [
        'WHERE EXISTS (SELECT 1 FROM delivery d WHERE d.mail_id = m.id AND d.receiver_id = $1)',
        [`user-${(i * 7919) % 50000}`],
      ],
    },
    eq('publicationId', 'publication_id', (i) => `PUB-${(i * 7919) % 20000}`),
    eq('reservationId', 'reservation_id', (i) => `RES-${1 + ((i * 7919) % 1_000_000)}`),
    eq('organizationId', 'organization_id', (i) => `ORG-${(i * 7) % 1000}`),
    eq('establishmentId', 'establishment_id', (i) => `EST-${(i * 7) % 5000}`),
    {
      name: 'from/until (one day)',
      query: (i) => `from=${encodeURIComponent(day(i)[0])}&until=${encodeURIComponent(day(i)[1])}`,
      where: (i) => ['WHERE created_at >= $1 AND created_at < $2', day(i)],
    },
  ];
}

interface Page {
  totalElements: number;
  content: Array<{ id: string }>;
  links: Array<{ rel: string; href: string }>;
}

/** The scan nodes of a plan: "Index Scan mail_category_created_idx", "Seq Scan on mail"… */
function scans(plan: Record<string, unknown>, out: string[] = []): string[] {
  const type = String(plan['Node Type']);
  if (type.includes('Scan'))
    out.push(
      plan['Index Name']
        ? `${type} ${String(plan['Index Name'])}`
        : `${type} on ${String(plan['Relation Name'] ?? '?')}`,
    );
  for (const child of (plan.Plans as Array<Record<string, unknown>> | undefined) ?? []) scans(child, out);
  return out;
}

/** The plain SQL of a page typed by hand (what the service did before issue 9): an offset scan. */
const NAIVE_PAGE = `SELECT m.*, (SELECT coalesce(json_agg(d ORDER BY d.position), '[]') FROM delivery d WHERE d.mail_id = m.id) AS deliveries
  FROM mail m ORDER BY m.created_at DESC, m.id DESC LIMIT 10 OFFSET $1`;

async function connected(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

const isQuery = (sql: string): boolean => /^\s*(SELECT|WITH)\b/i.test(sql);

/** Replays recorded statements: each connection's in order on its own client, connections side by side. */
async function replay(clients: Map<number, Client>, statements: CapturedStatement[]): Promise<void> {
  const byConnection = new Map<number, CapturedStatement[]>();
  for (const s of statements) byConnection.set(s.connection, [...(byConnection.get(s.connection) ?? []), s]);
  await Promise.all(
    [...byConnection.entries()].map(async ([connection, list]) => {
      for (const s of list) await clients.get(connection)!.query(s.sql, s.params);
    }),
  );
}

export async function listRows(
  env: Record<string, string>,
  databaseUrl: string,
  db: Pool,
  settings: ListSettings,
): Promise<void> {
  section(`lists at ${fmt(settings.listRows)} mails`);
  const { rows: seeded } = await db.query<{ at: Date }>(`SELECT max(created_at) AS at FROM mail`);
  const all = filters(new Date(seeded[0].at).getTime());
  const deepQuery = `currentPage=${settings.deepPage}`;

  // 1. What the service sends to Postgres for each list, recorded on its own connection.
  const plans = new Map<string, string>();
  let deepStatements: CapturedStatement[] = [];
  try {
    const proxy = await startPgProxy(databaseUrl);
    const service = await startService({ ...env, RUN_MODE: 'api', DATABASE_URL: proxy.url });
    try {
      for (const filter of all) {
        await httpCall(`${service.url}/v1/mails?${filter.query(0)}`, { headers: AUTH });
        proxy.capture();
        await httpCall(`${service.url}/v1/mails?${filter.query(0)}`, { headers: AUTH });
        const statements = proxy.captured().filter((s) => isQuery(s.sql));
        const described: string[] = [];
        for (const s of statements) {
          const { rows } = await db.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(
            `EXPLAIN (FORMAT JSON) ${s.sql}`,
            s.params,
          );
          described.push(scans(rows[0]['QUERY PLAN'][0].Plan).join(' + ') || 'no scan');
        }
        plans.set(filter.name, described.join(' | ') || 'no statement recorded');
      }
      await httpCall(`${service.url}/v1/mails?${deepQuery}`, { headers: AUTH });
      proxy.capture();
      await httpCall(`${service.url}/v1/mails?${deepQuery}`, { headers: AUTH });
      deepStatements = proxy.captured();
    } finally {
      await service.stop();
      await proxy.close();
    }
    notes.push(
      'Plans of the statements the service sent for each list (EXPLAIN of the recorded SQL and parameters; statements separated by |):',
    );
    for (const [name, plan] of plans) notes.push(`  ${name}: ${plan}`);
  } catch (error) {
    notes.push(`Recording the lists' SQL failed: ${(error as Error).message}`);
  }

  // 2. The timed calls, service connected straight to Postgres.
  const service = await startService({ ...env, RUN_MODE: 'api' });
  try {
    for (const filter of all) {
      try {
        for (let i = 0; i < 2; i++) await httpCall(`${service.url}/v1/mails?${filter.query(i)}`, { headers: AUTH });
        const latencies: number[] = [];
        let exact = 0;
        let wrong = '';
        for (let i = 0; i < settings.listCalls; i++) {
          const t0 = performance.now();
          const { status, body } = await httpCall(`${service.url}/v1/mails?${filter.query(i)}`, { headers: AUTH });
          latencies.push(performance.now() - t0);
          if (status !== 200)
            throw new Error(`GET /v1/mails?${filter.query(i)} answered ${status}: ${body.slice(0, 200)}`);
          const [where, params] = filter.where(i);
          const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM mail m ${where}`, params);
          const total = (JSON.parse(body) as Page).totalElements;
          if (total === Number(rows[0].n)) exact++;
          else wrong ||= `${filter.query(i) || 'no filter'}: totalElements ${total}, count(*) ${rows[0].n}`;
        }
        const p99 = percentile(latencies, 99);
        const plan = plans.get(filter.name) ?? '';
        addRow({
          what: `GET /v1/mails ${filter.name}: p99 of ${settings.listCalls}`,
          ours: `${fmt(p99, 1)} ms (p50 ${fmt(median(latencies), 1)})`,
          reference: '–',
          ratio: '–',
          target: '≤ 25 ms, totalElements exact',
          pass: p99 <= 25 && exact === settings.listCalls,
          note: `totalElements exact ${exact}/${settings.listCalls}${wrong ? ` (${wrong})` : ''}; ${/Seq Scan on (mail|delivery)\b/.test(plan) ? 'SEQ SCAN of mail or delivery in plan' : plan ? 'indexes only' : 'plan unknown'}`,
        });
      } catch (error) {
        brokenRow(`GET /v1/mails ${filter.name}`, '≤ 25 ms', error);
      }
    }

    // `next` links from page 1, followed as given.
    try {
      let page = JSON.parse((await httpCall(`${service.url}/v1/mails`, { headers: AUTH })).body) as Page;
      const seen = new Set(page.content.map((m) => m.id));
      const latencies: number[] = [];
      let duplicates = 0;
      let href = '';
      for (let i = 0; i < settings.nextPages; i++) {
        href = page.links.find((l) => l.rel === 'next')?.href ?? '';
        if (!href) throw new Error(`page ${i + 1} has no next link`);
        const t0 = performance.now();
        const { status, body } = await httpCall(href, { headers: AUTH });
        latencies.push(performance.now() - t0);
        if (status !== 200) throw new Error(`GET ${href} answered ${status}: ${body.slice(0, 200)}`);
        page = JSON.parse(body) as Page;
        if (!page.content.length) throw new Error(`GET ${href} returned an empty page`);
        for (const m of page.content) {
          if (seen.has(m.id)) duplicates++;
          else seen.add(m.id);
        }
      }
      const p99 = percentile(latencies, 99);
      addRow({
        what: `GET /v1/mails following ${settings.nextPages} next links from page 1: p99`,
        ours: `${fmt(p99, 1)} ms (p50 ${fmt(median(latencies), 1)})`,
        reference: '–',
        ratio: '–',
        target: '≤ 25 ms',
        pass: p99 <= 25 && duplicates === 0,
        note: `${fmt(seen.size)} distinct mails, ${duplicates} repeated; last href ${href.replace(/^https?:\/\/[^/]+/, '')}`,
      });
    } catch (error) {
      brokenRow('GET /v1/mails following next links', '≤ 25 ms', error);
    }

    // currentPage=N typed by hand vs the same statements through bare pg.
    try {
      if (!deepStatements.length) throw new Error('no statement was recorded for it');
      const ours: number[] = [];
      for (let i = 0; i < 6; i++) {
        const t0 = performance.now();
        const { status, body } = await httpCall(`${service.url}/v1/mails?${deepQuery}`, { headers: AUTH });
        ours.push(performance.now() - t0);
        if (status !== 200) throw new Error(`GET /v1/mails?${deepQuery} answered ${status}: ${body.slice(0, 200)}`);
      }
      const clients = new Map<number, Client>();
      for (const id of new Set(deepStatements.map((s) => s.connection))) clients.set(id, await connected(databaseUrl));
      const naive = [await connected(databaseUrl), await connected(databaseUrl)];
      const recorded: number[] = [];
      const offset: number[] = [];
      try {
        for (let i = 0; i < 6; i++) {
          let t0 = performance.now();
          await replay(clients, deepStatements);
          recorded.push(performance.now() - t0);
          t0 = performance.now();
          await Promise.all([
            naive[0].query(NAIVE_PAGE, [(settings.deepPage - 1) * 10]),
            naive[1].query('SELECT count(*) AS total FROM mail m'),
          ]);
          offset.push(performance.now() - t0);
        }
      } finally {
        await Promise.all([...clients.values(), ...naive].map((c) => c.end()));
      }
      // The first of each is a warm-up.
      const oursMs = median(ours.slice(1));
      const offsetMs = median(offset.slice(1));
      const recordedMs = median(recorded.slice(1));
      addRow({
        what: `GET /v1/mails?${deepQuery} typed by hand (median of 5)`,
        ours: `${fmt(oursMs, 1)} ms`,
        reference: `${fmt(offsetMs, 1)} ms bare pg, LIMIT/OFFSET page + count(*) side by side`,
        ratio: `${fmt(oursMs / offsetMs, 2)} ×`,
        target: '≤ 1.0 ×',
        pass: oursMs <= offsetMs,
        note: `the service's own ${deepStatements.length} statement(s) replayed through bare pg: ${fmt(recordedMs, 1)} ms (${deepStatements
          .map((s) => s.sql.replace(/\s+/g, ' ').slice(0, 50))
          .join(' | ')})`,
      });
    } catch (error) {
      brokenRow(`GET /v1/mails?${deepQuery}`, '≤ 1.0 × bare pg', error);
    }
  } finally {
    await service.stop();
  }
}
