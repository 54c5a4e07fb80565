import { waitUntil } from '../fixtures';
import { FaultPostgres } from './fault-postgres';
import { FaultRelay } from './fault-relay';

/** The suites' one wait-for-a-condition helper (test/fixtures.ts). */
export { waitUntil };

export interface Answer {
  /** 0 when no answer came (connection refused, reset, or no answer within the timeout). */
  status: number;
  headers: Headers;
  body: unknown;
  error?: string;
}

/** One HTTP call to the service on 127.0.0.1; never throws, a missing answer is status 0. */
export async function call(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: keep the text.
    }
    return { status: res.status, headers: res.headers, body: parsed };
  } catch (error) {
    return {
      status: 0,
      headers: new Headers(),
      body: null,
      error:
        (error as Error).name === 'TimeoutError' ? 'no answer within timeout' : String((error as Error).cause ?? error),
    };
  }
}

export const receiverIds = (count: number): string[] => Array.from({ length: count }, (_, i) => `faults-r${i}`);

/** Puts `count` receivers in the service's recipient directory. */
export async function putRecipients(url: string, count: number): Promise<void> {
  for (const id of receiverIds(count)) {
    const res = await call('PUT', `${url}/v1/recipients/${id}`, {
      email: `${id}@example.test`,
      firstName: 'Fault',
      locale: 'fr',
    });
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`PUT recipient ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** A mail event with one receiver (so one delivery, one Message-ID per mail). */
export function mailEvent(receiverId: string, n = 0): Record<string, unknown> {
  return {
    category: 'PROFILE_COMPLETION_REQUEST',
    receiversId: [receiverId],
    variables: {},
    organizationId: `org-${n}`,
  };
}

/** Runs `task(i)` for i in [0, count), `concurrency` at a time. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** Posts `count` mails (receivers taken in turn from `receivers`), each expected to be accepted (202). */
export async function postMails(url: string, count: number, receivers: number, concurrency = 16): Promise<string[]> {
  const ids = receiverIds(receivers);
  return pool(count, concurrency, async (i) => {
    const res = await call('POST', `${url}/v1/mails`, mailEvent(ids[i % ids.length], i));
    if (res.status !== 202)
      throw new Error(`POST /v1/mails #${i}: ${res.status} ${JSON.stringify(res.body)} ${res.error ?? ''}`);
    return (res.body as { id: string }).id;
  });
}

export interface MailView {
  id: string;
  status: string;
  deliveries: Array<{ receiverId: string; status: string; attempts: number; messageId: string; error: unknown }>;
}

/** Reads every mail through the API (what a caller would check). */
export async function readMails(url: string, ids: string[]): Promise<MailView[]> {
  return pool(ids.length, 16, async (i) => {
    const res = await call('GET', `${url}/v1/mails/${ids[i]}`);
    if (res.status !== 200) throw new Error(`GET /v1/mails/${ids[i]}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as MailView;
  });
}

/** Delivery rows by status, straight from the `delivery` table (null while the database is down). */
export async function deliveryStatuses(pg: FaultPostgres, databaseUrl: string): Promise<Record<string, number> | null> {
  try {
    const rows = await pg.query<{ status: string; n: number }>(
      databaseUrl,
      'SELECT status, count(*)::int AS n FROM delivery GROUP BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } catch {
    return null;
  }
}

/**
 * Waits until `expected` deliveries are SENT (by the table). Returns whether they were, so a test
 * prints its counts before it asserts; logs what it saw last when they were not.
 */
export function waitAllSent(
  pg: FaultPostgres,
  databaseUrl: string,
  expected: number,
  timeoutMs: number,
): Promise<boolean> {
  return waitForStatus(pg, databaseUrl, 'SENT', expected, timeoutMs);
}

export async function waitForStatus(
  pg: FaultPostgres,
  databaseUrl: string,
  status: string,
  expected: number,
  timeoutMs: number,
): Promise<boolean> {
  let last: Record<string, number> | null = null;
  return waitUntil(
    `${expected} deliveries ${status}`,
    async () => {
      last = (await deliveryStatuses(pg, databaseUrl)) ?? last;
      return (last?.[status] ?? 0) >= expected;
    },
    timeoutMs,
    500,
  ).then(
    () => true,
    () => {
      console.log(`Not every delivery was ${status} within ${timeoutMs} ms: ${JSON.stringify(last)} of ${expected}`);
      return false;
    },
  );
}

export interface Tally {
  accepted: number;
  sent: number;
  /** Mails (with their status) that did not end SENT. */
  notSent: string[];
  received: number;
  /** Deliveries whose Message-ID the relay never received. */
  lost: number;
  /** Copies received beyond the first of their Message-ID. */
  duplicates: number;
  /** Copies (mail and recipient) received under more than one Message-ID: a duplicate that does not carry its twin's id. */
  copiesWithSeveralMessageIds: number;
  /** Message-IDs received that belong to none of the deliveries. */
  unknownMessageIds: number;
  /** The first few Message-IDs received twice, with the times of their copies (for the report). */
  duplicated: string[];
}

/** What was accepted, what the API says became of it, and what the relay received. */
export async function tally(url: string, ids: string[], relay: FaultRelay): Promise<Tally> {
  const mails = await readMails(url, ids);
  const counts = relay.countsByMessageId();
  const messageIds = new Set(mails.flatMap((m) => m.deliveries.map((d) => d.messageId)));
  return {
    accepted: ids.length,
    sent: mails.filter((m) => m.status === 'SENT' && m.deliveries.every((d) => d.status === 'SENT')).length,
    notSent: mails.filter((m) => m.status !== 'SENT').map((m) => `${m.id}:${m.status}`),
    received: relay.received.length,
    lost: [...messageIds].filter((id) => !counts.has(id)).length,
    duplicates: relay.duplicates(),
    copiesWithSeveralMessageIds: [...relay.messageIdsByCopy().values()].filter((set) => set.size > 1).length,
    unknownMessageIds: [...counts.keys()].filter((id) => !messageIds.has(id)).length,
    duplicated: [...counts.entries()]
      .filter(([, n]) => n > 1)
      .slice(0, 3)
      .map(
        ([id]) =>
          `${id} at ${relay.received
            .filter((c) => c.messageId === id)
            .map((c) => new Date(c.at).toISOString().slice(11, 23))
            .join(' and ')}`,
      ),
  };
}

export function describeTally(name: string, t: Tally): string {
  return (
    `${name ? `${name}: ` : ''}${t.accepted} accepted, ${t.sent} SENT, ${t.received} received, ${t.lost} lost, ` +
    `${t.duplicates} duplicates (same Message-ID), ${t.copiesWithSeveralMessageIds} copies under several Message-IDs, ${t.unknownMessageIds} unknown Message-IDs` +
    (t.duplicated.length ? ` [${t.duplicated.join('; ')}]` : '') +
    (t.notSent.length ? `; not SENT: ${t.notSent.slice(0, 5).join(', ')}${t.notSent.length > 5 ? ', ...' : ''}` : '')
  );
}
