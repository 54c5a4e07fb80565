import { FaultFixture } from './fault-fixture';
import { sleep } from './fault-relay';
import { FAULT_ENV } from './service-process';
import {
  describeTally,
  postMails,
  putRecipients,
  readMails,
  tally,
  waitAllSent,
  waitForStatus,
  waitUntil,
} from './traffic';

/** The SMTP relay misbehaves: it stalls, or it goes away. */
describe('faults: the SMTP relay stalls or goes away', () => {
  const fx = FaultFixture.install();

  it('the relay stalls longer than the lease while a second worker runs: no copy is sent twice', async () => {
    const total = 10;
    const leaseSeconds = Number(FAULT_ENV.DELIVERY_LEASE_SECONDS);
    const api = await fx.start('stall-api', 'api');
    await putRecipients(api.url, 5);
    await fx.start('stall-worker-1', 'worker');
    await fx.start('stall-worker-2', 'worker');
    // Each message is taken and left unanswered for 2.5 leases: a worker still waiting for that
    // answer when its lease runs out would race the other worker for the same copy.
    fx.relay.mode = { kind: 'stall', seconds: leaseSeconds * 2.5 };
    const ids = await postMails(api.url, total, 5);
    // A fixed wait on purpose: the fault is a stall that outlasts the leases (3 of them), whatever happens meanwhile.
    await sleep(leaseSeconds * 3 * 1000);
    const stalled = fx.relay.received.length;
    fx.relay.mode = { kind: 'accept' };

    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, total, 90_000);
    const t = await tally(api.url, ids, fx.relay);
    const attempts = (await readMails(api.url, ids))
      .flatMap((m) => m.deliveries)
      .reduce((sum, d) => sum + d.attempts, 0);
    console.log(
      `relay stalled ${leaseSeconds * 2.5} s per message (lease ${leaseSeconds} s), two workers: ${describeTally('', t)}; ` +
        `${stalled} received during the stall, ${attempts} attempts in all, ${fx.relay.refusals.get(421) ?? 0} answers withheld from clients that had hung up`,
    );
    expect(allSent).toBe(true);
    expect(t.duplicates).toBe(0);
    expect(t.lost).toBe(0);
    expect(t.received).toBe(total);
  });

  it('200 mails through a 30 s relay outage (port closed): each received exactly once, eventually', async () => {
    const total = 200;
    fx.relay.mode = { kind: 'accept', delayMs: 20 };
    const service = await fx.start('relay-outage', 'all');
    await putRecipients(service.url, 10);
    const ids = await postMails(service.url, total, 10);
    await fx.relay.waitForReceived(20, 60_000);
    await fx.relay.stop();
    const stoppedAt = new Date();
    const receivedBeforeOutage = fx.relay.received.length;
    // A fixed wait on purpose: the fault is an outage of 30 s.
    await sleep(30_000);
    await fx.relay.start();
    const restartedAt = new Date();

    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, total, 90_000);
    const t = await tally(service.url, ids, fx.relay);
    const attempts = (await readMails(service.url, ids))
      .flatMap((m) => m.deliveries)
      .reduce((sum, d) => sum + d.attempts, 0);
    const time = (d: Date): string => d.toISOString().slice(11, 23);
    console.log(
      `relay down 30 s (${time(stoppedAt)} to ${time(restartedAt)}) after ${receivedBeforeOutage} received: ${describeTally('', t)}; ${attempts} attempts in all`,
    );
    expect(allSent).toBe(true);
    expect(t.sent).toBe(total);
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
    expect(t.received).toBe(total);
  });

  it('the relay answers 4xx for a while: retried and sent once; 5xx: FAILED with SMTP_REJECTED at once, nothing received', async () => {
    const service = await fx.start('relay-codes', 'all');
    await putRecipients(service.url, 5);
    fx.relay.mode = { kind: 'tempfail' };
    const retried = await postMails(service.url, 20, 5);
    // 4xx until every copy has been answered 451 and waits for its retry.
    await waitUntil(
      'every copy answered 451, waiting for its retry',
      async () =>
        (await readMails(service.url, retried)).every((m) =>
          m.deliveries.every((d) => (d.error as { code?: string } | null)?.code === 'SMTP_TEMPORARY'),
        ),
      30_000,
      200,
    );
    fx.relay.mode = { kind: 'accept' };
    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, retried.length, 60_000);
    const t = await tally(service.url, retried, fx.relay);
    const retriedMails = await readMails(service.url, retried);
    const attempts = retriedMails.flatMap((m) => m.deliveries).reduce((sum, d) => sum + d.attempts, 0);

    fx.relay.mode = { kind: 'reject' };
    const receivedBefore = fx.relay.received.length;
    const refused = await postMails(service.url, 5, 5);
    const allFailed = await waitForStatus(fx.pg, fx.databaseUrl, 'FAILED', refused.length, 30_000);
    const refusedMails = await readMails(service.url, refused);
    const refusedDeliveries = refusedMails.flatMap((m) => m.deliveries);
    console.log(
      `relay answering 451 until every copy was refused once: ${describeTally('', t)}; ${attempts} attempts, ${fx.relay.refusals.get(451) ?? 0} answered 451. ` +
        `Relay answering 554: ${refusedMails.filter((m) => m.status === 'FAILED').length} of ${refused.length} mails FAILED, ` +
        `error codes ${JSON.stringify([...new Set(refusedDeliveries.map((d) => (d.error as { code?: string } | null)?.code))])}, ` +
        `${refusedDeliveries.reduce((sum, d) => sum + d.attempts, 0)} attempts, ${fx.relay.received.length - receivedBefore} received`,
    );
    expect(allSent).toBe(true);
    expect(t.sent).toBe(retried.length);
    expect(t.duplicates).toBe(0);
    expect(attempts).toBeGreaterThan(retried.length);
    expect(allFailed).toBe(true);
    expect(refusedMails.map((m) => m.status)).toEqual(refused.map(() => 'FAILED'));
    expect(refusedDeliveries.map((d) => [(d.error as { code?: string } | null)?.code, d.attempts])).toEqual(
      refused.map(() => ['SMTP_REJECTED', 1]),
    );
    expect(fx.relay.received.length).toBe(receivedBefore);
  });
});
