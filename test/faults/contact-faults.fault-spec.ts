import { FaultFixture } from './fault-fixture';
import { sleep } from './fault-relay';
import { ServiceProcess } from './service-process';
import { call, describeTally, pool, tally, waitAllSent, waitUntil } from './traffic';

/** Contact threads from anyone: the contact limit would refuse the test's own traffic from 127.0.0.1. */
const NO_CONTACT_LIMIT = { CONTACT_RATE_LIMIT_PER_HOUR: '0' };
const SUPPORT = 'support@voyages.test';

/** Opens `count` contact threads; each causes two mails (the forward to support and the acknowledgement). */
async function postThreads(url: string, count: number): Promise<string[]> {
  return pool(count, 8, async (i) => {
    const res = await call('POST', `${url}/v1/contacts`, {
      name: `Visitor ${i}`,
      mail: `visitor-${i}@example.com`,
      object: `Question ${i}`,
      message: `Hello,\nquestion number ${i}.`,
    });
    if (res.status !== 201)
      throw new Error(`POST /v1/contacts #${i}: ${res.status} ${JSON.stringify(res.body)} ${res.error ?? ''}`);
    return (res.body as { id: string }).id;
  });
}

/** Contact mails are mails of the one pipeline: the same guarantees, under the same faults. */
describe('faults: contact mails when the worker dies or the relay goes away', () => {
  const fx = FaultFixture.install();

  /** The mails the threads caused, by the table (two per thread). */
  async function contactMailIds(threads: string[]): Promise<string[]> {
    const rows = await fx.pg.query<{ id: string }>(
      fx.databaseUrl,
      'SELECT id FROM mail WHERE contact_message_id = ANY($1::uuid[])',
      [threads],
    );
    return rows.map((row) => row.id);
  }

  it('SIGKILL of the worker mid-send: each contact mail received exactly once, or twice under one Message-ID', async () => {
    const threads = 60;
    fx.relay.mode = { kind: 'accept', delayMs: 100 };
    const api = await fx.start('contact-kill-api', 'api', { ...NO_CONTACT_LIMIT, CONTACT_INBOX_EMAIL: SUPPORT });
    const threadIds = await postThreads(api.url, threads);
    const ids = await contactMailIds(threadIds);

    let worker: ServiceProcess | undefined;
    let killedAt = 0;
    fx.relay.afterAccept = (count) => {
      if (count >= 30 && worker && !killedAt) {
        killedAt = count;
        process.kill(worker.pid, 'SIGKILL');
      }
    };
    worker = await fx.start('contact-kill-worker-1', 'worker', NO_CONTACT_LIMIT);
    const exit = await worker.exited;
    fx.relay.afterAccept = undefined;
    await fx.start('contact-kill-worker-2', 'worker', NO_CONTACT_LIMIT);

    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, threads * 2, 90_000);
    const t = await tally(api.url, ids, fx.relay);
    const toSupport = fx.relay.received.filter((copy) => copy.to.includes(SUPPORT)).length;
    console.log(
      `contact mails, worker killed right after the relay's 250 for message ${killedAt}: ${describeTally('', t)}; ${toSupport} forwards to support`,
    );
    expect(exit.signal).toBe('SIGKILL');
    expect(allSent).toBe(true);
    expect(ids).toHaveLength(threads * 2);
    expect(t.sent).toBe(threads * 2);
    expect(t.lost).toBe(0);
    expect(t.copiesWithSeveralMessageIds).toBe(0);
    expect(t.unknownMessageIds).toBe(0);
    expect(
      new Set(fx.relay.received.filter((copy) => copy.to.includes(SUPPORT)).map((copy) => copy.messageId)).size,
    ).toBe(threads);
  });

  it('a 20 s relay outage: every contact mail received exactly once, eventually', async () => {
    const threads = 40;
    fx.relay.mode = { kind: 'accept', delayMs: 20 };
    const service = await fx.start('contact-outage', 'all', { ...NO_CONTACT_LIMIT, CONTACT_INBOX_EMAIL: SUPPORT });
    const threadIds = await postThreads(service.url, threads);
    await fx.relay.waitForReceived(10, 60_000);
    await fx.relay.stop();
    const receivedBeforeOutage = fx.relay.received.length;
    // Threads opened during the outage are accepted (the relay is not on the request's path).
    threadIds.push(...(await postThreads(service.url, 10)));
    // A fixed wait on purpose: the fault is an outage of 20 s.
    await sleep(20_000);
    await fx.relay.start();

    const ids = await contactMailIds(threadIds);
    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, ids.length, 90_000);
    await waitUntil('every copy received', () => fx.relay.received.length >= ids.length, 10_000).catch(() => undefined);
    const t = await tally(service.url, ids, fx.relay);
    console.log(
      `contact mails through a 20 s relay outage after ${receivedBeforeOutage} received: ${describeTally('', t)}`,
    );
    expect(ids).toHaveLength((threads + 10) * 2);
    expect(allSent).toBe(true);
    expect(t.sent).toBe(ids.length);
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
    expect(t.received).toBe(ids.length);
  });
});
