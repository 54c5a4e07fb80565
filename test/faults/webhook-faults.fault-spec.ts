import { FaultFixture } from './fault-fixture';
import { FaultPostgres } from './fault-postgres';
import { describeCalls, FaultReceiver, tallyCalls } from './fault-receiver';
import { ServiceProcess } from './service-process';
import { call, postMails, putRecipients, receiverIds, waitUntil } from './traffic';

/** What each mail of `postMails` should bring to an endpoint subscribed to both: its `mail.sent` and its one `mail.delivery.sent`. */
function expectedEvents(mailIds: string[], receivers: number): string[] {
  const ids = receiverIds(receivers);
  return mailIds.flatMap((id, i) => [`mail.sent:${id}`, `mail.delivery.sent:${id}:${ids[i % ids.length]}`]);
}

async function registerEndpoint(apiUrl: string, url: string, events: string[]): Promise<string> {
  const res = await call('POST', `${apiUrl}/v1/webhooks`, { url, events, description: 'fault suite' });
  if (res.status !== 201) throw new Error(`POST /v1/webhooks: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { id: string }).id;
}

/** Webhook deliveries (one per event and endpoint) by status, straight from the table (null while it cannot be read). */
async function webhookStatuses(pg: FaultPostgres, databaseUrl: string): Promise<Record<string, number> | null> {
  try {
    const rows = await pg.query<{ status: string; n: number }>(
      databaseUrl,
      'SELECT status, count(*)::int AS n FROM webhook_delivery GROUP BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } catch {
    return null;
  }
}

/** Waits until `condition` holds; false (after logging `what` and the last state) when it did not within `timeoutMs`. */
async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  state: () => string = () => '',
): Promise<boolean> {
  return waitUntil(what, condition, timeoutMs, 200).then(
    () => true,
    () => {
      console.log(`Not ${what} within ${timeoutMs} ms ${state()}`);
      return false;
    },
  );
}

/** Waits until the table holds `expected` deliveries, all SUCCEEDED, and the receiver acknowledged each event. */
async function waitAllDelivered(
  fx: FaultFixture,
  receiver: FaultReceiver,
  expected: number,
  timeoutMs: number,
): Promise<boolean> {
  let last: Record<string, number> | null = null;
  return waitFor(
    'every webhook SUCCEEDED and acknowledged',
    async () => {
      last = (await webhookStatuses(fx.pg, fx.databaseUrl)) ?? last;
      return (last?.SUCCEEDED ?? 0) >= expected && receiver.acknowledgedEvents() >= expected;
    },
    timeoutMs,
    () => `(table ${JSON.stringify(last)}, ${receiver.acknowledgedEvents()} events acknowledged, of ${expected})`,
  );
}

interface Attempt {
  id: string;
  webhookId: string;
  type: string;
  attempt: number;
  status: 'SUCCEEDED' | 'FAILED';
  responseStatus: number | null;
}

/** The whole attempt log of an endpoint, through the API (pages of 100). */
async function attemptLog(apiUrl: string, endpointId: string): Promise<Attempt[]> {
  const all: Attempt[] = [];
  for (let page = 1; ; page++) {
    const res = await call('GET', `${apiUrl}/v1/webhooks/${endpointId}/deliveries?sizePage=100&currentPage=${page}`);
    if (res.status !== 200) throw new Error(`GET deliveries page ${page}: ${res.status} ${JSON.stringify(res.body)}`);
    const body = res.body as { content: Attempt[]; totalPages: number };
    all.push(...body.content);
    if (page >= body.totalPages) return all;
  }
}

function describeLog(log: Attempt[]): string {
  const counts = new Map<string, number>();
  for (const a of log) {
    const key = a.status === 'SUCCEEDED' ? 'SUCCEEDED' : `FAILED/${a.responseStatus ?? 'no answer'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return `attempt log ${log.length} rows (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')})`;
}

/** The webhook worker dies mid-call, or the receiver goes away: every event arrives, a second copy only under its first `webhook-id`. */
describe('faults: webhook calls through a worker death and a receiver outage', () => {
  const fx = FaultFixture.install();
  let receiver: FaultReceiver;

  beforeEach(async () => {
    receiver = new FaultReceiver();
    await receiver.start();
  });

  afterEach(async () => {
    await receiver?.dispose();
  });

  it('SIGKILL with calls open on a slow receiver, then a new worker: every event delivered, duplicates only under the same webhook-id', async () => {
    const mails = 50;
    const receivers = 10;
    // The receiver answers each call after 1 to 2 s: when the kill lands, a worker's share of calls to it is open.
    receiver.mode = { kind: 'accept', delayMs: 1000, jitterMs: 1000 };
    // The endpoint and the mails go through an API process that stays up; the worker processes are the ones killed.
    const api = await fx.start('webhook-kill-api', 'api');
    const endpointId = await registerEndpoint(api.url, receiver.url('/kill'), ['mail.sent', 'mail.delivery.sent']);
    await putRecipients(api.url, receivers);
    const ids = await postMails(api.url, mails, receivers);
    const expected = expectedEvents(ids, receivers);

    // The kill: in the same tick as the receiver's 200 to its 20th call (that call is answered but
    // not yet recorded by the worker: the one window for a second copy), with other calls still open.
    let first: ServiceProcess | undefined;
    let killedAfter = 0;
    let openAtKill = 0;
    receiver.afterAcknowledge = (count) => {
      if (count >= 20 && first && !killedAfter) {
        killedAfter = count;
        openAtKill = receiver.open;
        process.kill(first.pid, 'SIGKILL');
      }
    };
    first = await fx.start('webhook-kill-worker-1', 'worker');
    const firstExit = await first.exited;
    receiver.afterAcknowledge = undefined;
    const callsAtKill = receiver.calls.length;

    // The calls the dead worker held come back when their lease runs out, from the next worker.
    await fx.start('webhook-kill-worker-2', 'worker');
    const allDelivered = await waitAllDelivered(fx, receiver, expected.length, 110_000);
    const t = tallyCalls(receiver, expected);
    const log = await attemptLog(api.url, endpointId);
    const statuses = await webhookStatuses(fx.pg, fx.databaseUrl);
    console.log(
      `webhook worker SIGKILLed right after the receiver's 200 to call ${killedAfter}, with ${openAtKill} calls open (${callsAtKill} received by then): ` +
        `${describeCalls(t)}; table ${JSON.stringify(statuses)}; ${describeLog(log)}, ${log.filter((a) => a.attempt > 1).length} of them at attempt 2 or later`,
    );

    expect(firstExit.signal).toBe('SIGKILL');
    expect(openAtKill).toBeGreaterThan(0);
    // Calls were cut mid-call (the receiver had them, the caller died before the answer).
    expect(t.cut).toBeGreaterThan(0);
    expect(allDelivered).toBe(true);
    expect(t.lost).toBe(0);
    // A second copy is one the receiver can drop: it carries the webhook-id of the first.
    expect(t.eventsWithSeveralIds).toBe(0);
    expect(t.unknownEvents).toBe(0);
    expect(statuses).toEqual({ SUCCEEDED: expected.length });
    expect(log.filter((a) => a.status === 'SUCCEEDED')).toHaveLength(expected.length);
  });

  it('the receiver is down (port closed), then answers 503, then comes back: every event delivered once, under one webhook-id, each failure in the attempt log', async () => {
    const mails = 30;
    const receivers = 5;
    // Port closed from the start: the endpoint is registered on a port that refuses connections.
    await receiver.stop();
    const closedAt = Date.now();
    // A retry every 2 s (WEBHOOK_RETRY_SCHEDULE_SECONDS, the operator setting of the contract's
    // 5 s, 5 min, 30 min… schedule): the outage is seen through several attempts per event, in seconds.
    const service = await fx.start('webhook-outage', 'all', { WEBHOOK_RETRY_SCHEDULE_SECONDS: '2' });
    const endpointId = await registerEndpoint(service.url, receiver.url('/outage'), [
      'mail.sent',
      'mail.delivery.sent',
    ]);
    await putRecipients(service.url, receivers);
    const ids = await postMails(service.url, mails, receivers);
    const expected = expectedEvents(ids, receivers);

    // Down until every event has failed twice (connection refused).
    const failedTwice = async (): Promise<number> =>
      (
        await fx.pg.query<{ n: number }>(
          fx.databaseUrl,
          `SELECT count(*)::int AS n FROM (SELECT 1 FROM webhook_attempt GROUP BY delivery_id HAVING count(*) >= 2) a`,
        )
      )[0].n;
    const downOk = await waitFor(
      'two refused attempts per event',
      async () => (await failedTwice()) >= expected.length,
      60_000,
    );
    // Up, but answering 503, until each event has been answered 503 once.
    receiver.mode = { kind: 'status', status: 503 };
    await receiver.start();
    const reopenedAt = Date.now();
    const answered503 = (): number =>
      new Set(receiver.calls.filter((c) => c.status === 503).map((c) => c.eventKey)).size;
    const unavailableOk = await waitFor(
      'a 503 for every event',
      () => answered503() >= expected.length,
      60_000,
      () => `(${answered503()} of ${expected.length})`,
    );
    // Back.
    receiver.mode = { kind: 'accept' };
    const backAt = Date.now();
    const allDelivered = await waitAllDelivered(fx, receiver, expected.length, 60_000);
    const t = tallyCalls(receiver, expected);
    const log = await attemptLog(service.url, endpointId);
    const statuses = await webhookStatuses(fx.pg, fx.databaseUrl);
    const refused = log.filter((a) => a.status === 'FAILED' && a.responseStatus === null);
    const unavailable = log.filter((a) => a.status === 'FAILED' && a.responseStatus === 503);
    const succeeded = log.filter((a) => a.status === 'SUCCEEDED');
    // The webhook-ids the receiver saw, per event, against those the attempt log names.
    const idOf = new Map(receiver.calls.map((c) => [c.eventKey, c.webhookId]));
    const receivedIds = new Set(idOf.values());
    const refusedIds = new Set(refused.map((a) => a.webhookId));
    console.log(
      `receiver down (port closed) ${((reopenedAt - closedAt) / 1000).toFixed(1)} s, then 503 for ${((backAt - reopenedAt) / 1000).toFixed(1)} s, retry every 2 s: ` +
        `${describeCalls(t)}; ${receiver.calls.filter((c) => c.status === 503).length} answered 503; table ${JSON.stringify(statuses)}; ${describeLog(log)}`,
    );

    expect(downOk).toBe(true);
    expect(unavailableOk).toBe(true);
    expect(allDelivered).toBe(true);
    expect(t.lost).toBe(0);
    expect(t.eventsWithSeveralIds).toBe(0);
    expect(t.unknownEvents).toBe(0);
    // Nothing was cut: each event was acknowledged exactly once.
    expect(t.acknowledgedDuplicates).toBe(0);
    expect(t.acknowledged).toBe(expected.length);
    expect(statuses).toEqual({ SUCCEEDED: expected.length });
    // The log shows every attempt: at least two refused per event, each 503 the receiver gave, one success per event.
    expect(refused.length).toBeGreaterThanOrEqual(2 * expected.length);
    expect(refusedIds).toEqual(receivedIds);
    expect(unavailable).toHaveLength(receiver.calls.filter((c) => c.status === 503).length);
    expect(succeeded).toHaveLength(expected.length);
    expect(new Set(succeeded.map((a) => a.webhookId))).toEqual(receivedIds);
  });
});
