import { FaultFixture } from './fault-fixture';
import { FAULT_ENV } from './service-process';
import { describeTally, postMails, putRecipients, tally, waitAllSent, waitUntil } from './traffic';

/** The process that delivers dies (SIGKILL) or is asked to stop (SIGTERM) while mails are in flight. */
describe('faults: the delivering process dies or is stopped mid-send', () => {
  const fx = FaultFixture.install();

  it('SIGKILL mid-send, then a restart: nothing is lost, and a duplicate carries its twin’s Message-ID', async () => {
    const total = 300;
    // A relay that takes 100 ms per message keeps several sends in flight when the kill lands.
    fx.relay.mode = { kind: 'accept', delayMs: 100 };
    const first = await fx.start('sigkill-before', 'all');
    await putRecipients(first.url, 10);
    const ids = await postMails(first.url, total, 10);
    await fx.relay.waitForReceived(60, 60_000);
    await waitUntil('a send in flight', () => fx.relay.inFlight > 0, 10_000);
    const inFlight = fx.relay.inFlight;
    await first.kill('SIGKILL');
    const receivedBeforeKill = fx.relay.received.length;

    const second = await fx.start('sigkill-after', 'all');
    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, total, 90_000);
    const t = await tally(second.url, ids, fx.relay);
    console.log(`${describeTally('kill mid-send', t)} (killed with ${receivedBeforeKill} received and ${inFlight} in flight)`);
    expect(allSent).toBe(true);

    expect(t.sent).toBe(total);
    expect(t.lost).toBe(0);
    // Any second copy is recognisable: it carries the Message-ID of the first.
    expect(t.copiesWithSeveralMessageIds).toBe(0);
    expect(t.unknownMessageIds).toBe(0);
  });

  it('SIGTERM while the relay stalls: the process exits within SHUTDOWN_GRACE_SECONDS, and after a restart nothing is lost', async () => {
    const total = 20;
    const graceMs = Number(FAULT_ENV.SHUTDOWN_GRACE_SECONDS) * 1000;
    const service = await fx.start('sigterm-before', 'all');
    await putRecipients(service.url, 5);
    // The relay takes each message and never answers (for far longer than the grace period).
    fx.relay.mode = { kind: 'stall', seconds: 120 };
    const ids = await postMails(service.url, total, 5);
    await waitUntil('sends hanging on the relay', () => fx.relay.inFlight > 0, 20_000);

    const exit = await service.kill('SIGTERM', 60_000);

    fx.relay.mode = { kind: 'accept' };
    const restarted = await fx.start('sigterm-after', 'all');
    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, total, 60_000);
    const t = await tally(restarted.url, ids, fx.relay);
    console.log(
      `SIGTERM with a stalled relay: exited ${exit.afterSignalMs} ms after the signal (grace ${graceMs} ms), code ${exit.code}, signal ${exit.signal}; ` +
        describeTally('then restart', t),
    );
    // Our fallback SIGKILL comes after 60 s: an exit by that signal means the service never stopped by itself.
    expect(exit.signal).not.toBe('SIGKILL');
    expect(exit.afterSignalMs).toBeLessThanOrEqual(graceMs + 3000);
    expect(allSent).toBe(true);
    expect(t.sent).toBe(total);
    expect(t.lost).toBe(0);
    expect(t.copiesWithSeveralMessageIds).toBe(0);
  });
});
