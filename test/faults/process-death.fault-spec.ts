import { FaultFixture } from './fault-fixture';
import { Exit, FAULT_ENV, ServiceProcess } from './service-process';
import { RelayMode } from './fault-relay';
import { describeTally, postMails, putRecipients, tally, Tally, waitAllSent, waitUntil } from './traffic';

const GRACE_MS = Number(FAULT_ENV.SHUTDOWN_GRACE_SECONDS) * 1000;

/** The process that delivers dies (SIGKILL) or is asked to stop (SIGTERM) while mails are in flight. */
describe('faults: the delivering process dies or is stopped mid-send', () => {
  const fx = FaultFixture.install();

  it('SIGKILL mid-send, twice, then a restart: nothing is lost, and a duplicate carries its twin’s Message-ID', async () => {
    const total = 300;
    // A relay that takes 100 ms per message keeps several sends in flight when a kill lands.
    fx.relay.mode = { kind: 'accept', delayMs: 100 };
    // The mails are posted to an API process that stays up; the worker processes are the ones killed.
    const api = await fx.start('sigkill-api', 'api');
    await putRecipients(api.url, 10);
    const ids = await postMails(api.url, total, 10);
    // First kill: right after the relay's 250 for its 60th message, before the worker can record it
    // (the one window where a copy may go twice).
    let first: ServiceProcess | undefined;
    let killedAfter = 0;
    fx.relay.afterAccept = (count) => {
      // `first` is known once the worker answers its readiness check, which may come after the 60th message.
      if (count >= 60 && first && !killedAfter) {
        killedAfter = count;
        process.kill(first.pid, 'SIGKILL');
      }
    };
    first = await fx.start('sigkill-worker-1', 'worker');
    const firstExit = await first.exited;
    fx.relay.afterAccept = undefined;
    const inFlightAtFirst = fx.relay.inFlight;

    // Second kill: at whatever point the sends of the next worker have reached.
    const second = await fx.start('sigkill-worker-2', 'worker');
    await fx.relay.waitForReceived(180, 90_000);
    await waitUntil('a send in flight', () => fx.relay.inFlight > 0, 10_000);
    const inFlightAtSecond = fx.relay.inFlight;
    await second.kill('SIGKILL');
    const receivedAtSecond = fx.relay.received.length;

    await fx.start('sigkill-worker-3', 'worker');
    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, total, 90_000);
    const t = await tally(api.url, ids, fx.relay);
    console.log(
      `kill mid-send (twice: right after the relay's 250 for message ${killedAfter} with ${inFlightAtFirst} more in flight, then at ${receivedAtSecond} received with ${inFlightAtSecond} in flight): ${describeTally('', t)}`,
    );

    expect(firstExit.signal).toBe('SIGKILL');
    expect(allSent).toBe(true);
    expect(t.sent).toBe(total);
    expect(t.lost).toBe(0);
    // Any second copy is recognisable: it carries the Message-ID of the first.
    expect(t.copiesWithSeveralMessageIds).toBe(0);
    expect(t.unknownMessageIds).toBe(0);
  });

  /** SIGTERM while sends hang on the relay; the process must be gone within the grace period, and a restart finish the job. */
  async function sigtermWith(mode: RelayMode, label: string): Promise<{ exit: Exit; t: Tally; allSent: boolean }> {
    const total = 20;
    const service = await fx.start(`sigterm-${mode.kind}`, 'all');
    await putRecipients(service.url, 5);
    fx.relay.mode = mode;
    const ids = await postMails(service.url, total, 5);
    await waitUntil('sends in flight on the relay', () => fx.relay.inFlight > 0, 20_000);
    const inFlight = fx.relay.inFlight;
    const exit = await service.kill('SIGTERM', 60_000);
    const receivedAtExit = fx.relay.received.length;

    fx.relay.mode = { kind: 'accept' };
    const restarted = await fx.start(`sigterm-${mode.kind}-after`, 'all');
    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, total, 60_000);
    const t = await tally(restarted.url, ids, fx.relay);
    console.log(
      `SIGTERM with ${label} (${inFlight} sends in flight): exited ${exit.afterSignalMs} ms after the signal (grace ${GRACE_MS} ms), ` +
        `code ${exit.code}, signal ${exit.signal}, ${receivedAtExit} received by then; after a restart: ${describeTally('', t)}`,
    );
    return { exit, t, allSent };
  }

  it('SIGTERM with a slow relay (2 s per message): the sends in hand finish and are recorded, the process exits within SHUTDOWN_GRACE_SECONDS, nothing lost or doubled', async () => {
    const { exit, t, allSent } = await sigtermWith({ kind: 'accept', delayMs: 2000 }, 'a relay answering in 2 s');
    // Our fallback SIGKILL comes after 60 s: an exit by that signal means the service never stopped by itself.
    expect(exit.signal).not.toBe('SIGKILL');
    expect(exit.afterSignalMs).toBeLessThanOrEqual(GRACE_MS + 3000);
    expect(allSent).toBe(true);
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
  });

  it('SIGTERM while the relay stalls (never answers): the process exits within SHUTDOWN_GRACE_SECONDS, and after a restart nothing is lost', async () => {
    const { exit, t, allSent } = await sigtermWith({ kind: 'stall', seconds: 120 }, 'a stalled relay');
    expect(exit.signal).not.toBe('SIGKILL');
    expect(exit.afterSignalMs).toBeLessThanOrEqual(GRACE_MS + 3000);
    expect(allSent).toBe(true);
    expect(t.lost).toBe(0);
    expect(t.copiesWithSeveralMessageIds).toBe(0);
  });
});
