import { randomUUID } from 'node:crypto';
import { FaultFixture } from './fault-fixture';
import { TEST_APPLICATION_NAME } from './fault-postgres';
import { sleep } from './fault-relay';
import {
  Answer,
  call,
  describeTally,
  mailEvent,
  postMails,
  putRecipients,
  receiverIds,
  tally,
  waitAllSent,
  waitUntil,
} from './traffic';

/** The API's answers: how many of each status (and error name), and how many 503 lacked Retry-After. */
function summarize(answers: Answer[]): {
  byStatus: Record<string, number>;
  without503RetryAfter: number;
  noAnswer: string[];
} {
  const byStatus: Record<string, number> = {};
  for (const a of answers) {
    const name = (a.body as { name?: unknown } | null)?.name;
    const key = a.status >= 400 && typeof name === 'string' ? `${a.status} ${name}` : String(a.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  return {
    byStatus,
    without503RetryAfter: answers.filter((a) => a.status === 503 && !a.headers.get('retry-after')).length,
    noAnswer: [...new Set(answers.filter((a) => a.status === 0).map((a) => a.error ?? ''))],
  };
}

/** The database goes away under the service: stopped for a while, or its connections cut. */
describe('faults: the database fails under the service', () => {
  const fx = FaultFixture.install();

  it('Postgres stopped for 20 s while sending: 503 with Retry-After meanwhile, then everything SENT, nothing lost, nothing doubled', async () => {
    const total = 60;
    const outageMs = 20_000;
    // A relay answering in 1 s: the sends in flight when Postgres stops get their 250 during the
    // outage, and their records must land once it is back (settles retried, not dropped).
    fx.relay.mode = { kind: 'accept', delayMs: 1000 };
    const service = await fx.start('pg-outage', 'all');
    await putRecipients(service.url, 10);
    const ids = await postMails(service.url, total, 10);
    await fx.relay.waitForReceived(15, 60_000);
    await waitUntil('sends in flight', () => fx.relay.inFlight > 0, 10_000);
    const inFlightAtStop = fx.relay.inFlight;
    await fx.pg.stop();
    const receivedAtStop = fx.relay.received.length;
    // Meanwhile a caller keeps posting and reading; each call must be answered, not left hanging.
    const answers: Answer[] = [];
    const readiness: Answer[] = [];
    const acceptedDuringOutage: string[] = [];
    const until = Date.now() + outageMs;
    while (Date.now() < until) {
      const [post, get, ready] = await Promise.all([
        call('POST', `${service.url}/v1/mails`, mailEvent(receiverIds(1)[0]), {}, 8000),
        call('GET', `${service.url}/v1/mails/${ids[0]}`, undefined, {}, 8000),
        call('GET', `${service.url}/health/ready`, undefined, {}, 8000),
      ]);
      answers.push(post, get);
      readiness.push(ready);
      if (post.status === 202) acceptedDuringOutage.push((post.body as { id: string }).id);
      // A fixed pace on purpose: a caller's rhythm during an outage of a fixed length, not a wait for anything.
      await sleep(500);
    }
    const receivedDuringOutage = fx.relay.received.length - receivedAtStop;
    await fx.pg.restart();

    const all = [...ids, ...acceptedDuringOutage];
    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, all.length, 90_000);
    const t = await tally(service.url, all, fx.relay);
    const api = summarize(answers);
    const ready = summarize(readiness);
    console.log(
      `Postgres stopped ${outageMs / 1000} s mid-send (${receivedAtStop} received, ${inFlightAtStop} in flight at the stop): ${describeTally('then', t)}; ${receivedDuringOutage} received while it was down; ` +
        `API answers meanwhile ${JSON.stringify(api.byStatus)} (${api.without503RetryAfter} 503 without Retry-After${api.noAnswer.length ? `; no answer: ${api.noAnswer.join(', ')}` : ''}), ` +
        `/health/ready ${JSON.stringify(ready.byStatus)}`,
    );

    expect(allSent).toBe(true);
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
    expect(t.sent).toBe(all.length);
    expect(Object.keys(api.byStatus)).toEqual(['503 SERVICE_UNAVAILABLE']);
    expect(api.without503RetryAfter).toBe(0);
    expect(Object.keys(ready.byStatus).map((status) => status.slice(0, 3))).toEqual(['503']);
  });

  it('pg_terminate_backend on the API’s connections during concurrent POSTs: 202 or 503, never a mail without its deliveries, every 202 delivered', async () => {
    const api = await fx.start('terminate-api', 'api');
    await putRecipients(api.url, 10);
    const admin = await fx.pg.connect(fx.databaseUrl);
    const receivers = receiverIds(10);
    const answers: Answer[] = [];
    const accepted: string[] = [];
    const orphans = { mailsWithoutDeliveries: 0, deliveriesWithoutMail: 0, checks: 0 };
    let terminated = 0;
    let running = true;

    const clients = Array.from({ length: 4 }, async (_, c) => {
      for (let n = 0; running; n++) {
        // Several receivers per mail, so a mail has several delivery rows that must all be there.
        const body = {
          ...mailEvent(receivers[(c + n) % 10], n),
          receiversId: [receivers[(c + n) % 10], receivers[(c + n + 1) % 10], receivers[(c + n + 2) % 10]],
        };
        const answer = await call('POST', `${api.url}/v1/mails`, body, { 'idempotency-key': randomUUID() }, 10_000);
        answers.push(answer);
        if (answer.status === 202) accepted.push((answer.body as { id: string }).id);
      }
    });
    const killer = (async () => {
      while (running) {
        const rows = await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name IS DISTINCT FROM $1 AND pg_terminate_backend(pid)`,
          [TEST_APPLICATION_NAME],
        );
        terminated += rows.rowCount ?? 0;
        // A fixed pace on purpose: the fault is a cut every 250 ms.
        await sleep(250);
      }
    })();
    const checker = (async () => {
      while (running) {
        // One statement, one snapshot: a committed mail must have its deliveries in it, and the reverse.
        const {
          rows: [row],
        } = await admin.query<{ m: number; d: number }>(
          `SELECT (SELECT count(*)::int FROM mail m WHERE NOT EXISTS (SELECT 1 FROM delivery d WHERE d.mail_id = m.id)) AS m,
                  (SELECT count(*)::int FROM delivery d WHERE NOT EXISTS (SELECT 1 FROM mail m WHERE m.id = d.mail_id)) AS d`,
        );
        orphans.mailsWithoutDeliveries = Math.max(orphans.mailsWithoutDeliveries, row.m);
        orphans.deliveriesWithoutMail = Math.max(orphans.deliveriesWithoutMail, row.d);
        orphans.checks++;
        // A fixed pace on purpose: a sample every 200 ms while the cuts go on.
        await sleep(200);
      }
    })();
    // A fixed wait on purpose: the fault lasts 8 s (cuts under concurrent POSTs), whatever happens meanwhile.
    await sleep(8_000);
    running = false;
    await Promise.all([...clients, killer, checker]);
    if (!api.running) {
      // A connection error nobody listens for crashes the process (pg-pool leaves a checked-out client without an 'error' listener).
      console.log(
        `pg_terminate_backend during POSTs: the API process died: ${JSON.stringify(summarize(answers).byStatus)} answers, ${terminated} backends terminated, ` +
          `errors logged by the API ${JSON.stringify(api.loggedErrorTypes())}\n${api.lastLines()}`,
      );
    }
    expect(api.running).toBe(true);

    // A worker joins and delivers what was accepted (and anything committed whose answer was lost).
    await fx.start('terminate-worker', 'worker');
    const [{ n: stored }] = await fx.pg.query<{ n: number }>(fx.databaseUrl, 'SELECT count(*)::int AS n FROM delivery');
    const mailIds = (await fx.pg.query<{ id: string }>(fx.databaseUrl, 'SELECT id FROM mail')).map((r) => r.id);
    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, stored, 90_000);
    // Every mail stored, whether its answer was 202 or was lost with its connection.
    const t = await tally(api.url, mailIds, fx.relay);
    const acceptedNotStored = accepted.filter((id) => !mailIds.includes(id));
    await admin.end();
    const summary = summarize(answers);
    console.log(
      `pg_terminate_backend during POSTs: ${answers.length} POSTs ${JSON.stringify(summary.byStatus)} (${summary.without503RetryAfter} 503 without Retry-After), ` +
        `${terminated} backends terminated, errors logged by the API ${JSON.stringify(api.loggedErrorTypes())}, ${orphans.checks} checks: at most ${orphans.mailsWithoutDeliveries} mails without deliveries, ${orphans.deliveriesWithoutMail} deliveries without mail; ` +
        `${accepted.length} mails answered 202, ${mailIds.length} mails (${stored} deliveries) stored, ${acceptedNotStored.length} answered 202 but not stored; ${describeTally('then', t)}`,
    );

    expect(terminated).toBeGreaterThan(0);
    expect(
      Object.keys(summary.byStatus).filter((status) => status !== '202' && status !== '503 SERVICE_UNAVAILABLE'),
    ).toEqual([]);
    expect(summary.without503RetryAfter).toBe(0);
    expect(orphans.mailsWithoutDeliveries).toBe(0);
    expect(orphans.deliveriesWithoutMail).toBe(0);
    expect(acceptedNotStored).toEqual([]);
    expect(allSent).toBe(true);
    expect(t.sent).toBe(mailIds.length);
    expect(t.lost).toBe(0);
  });
});
