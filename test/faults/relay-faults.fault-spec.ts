import { FaultFixture } from './fault-fixture';
import { sleep } from './fault-relay';
import { FAULT_ENV } from './service-process';
import { describeTally, postMails, putRecipients, readMails, tally, waitAllSent } from './traffic';

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
    await sleep(leaseSeconds * 3 * 1000);
    const stalled = fx.relay.received.length;
    fx.relay.mode = { kind: 'accept' };

    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, total, 90_000);
    const t = await tally(api.url, ids, fx.relay);
    const attempts = (await readMails(api.url, ids)).flatMap((m) => m.deliveries).reduce((sum, d) => sum + d.attempts, 0);
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
    const receivedBeforeOutage = fx.relay.received.length;
    await sleep(30_000);
    await fx.relay.start();

    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, total, 90_000);
    const t = await tally(service.url, ids, fx.relay);
    const attempts = (await readMails(service.url, ids)).flatMap((m) => m.deliveries).reduce((sum, d) => sum + d.attempts, 0);
    console.log(`relay down 30 s after ${receivedBeforeOutage} received: ${describeTally('', t)}; ${attempts} attempts in all`);
    expect(allSent).toBe(true);
    expect(t.sent).toBe(total);
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
    expect(t.received).toBe(total);
  });
});
