import { randomUUID } from 'node:crypto';
import { FaultFixture } from './fault-fixture';
import { call, describeTally, mailEvent, postMails, putRecipients, receiverIds, tally, waitAllSent } from './traffic';

/** Several processes, or several requests, compete for the same work. */
describe('faults: competing workers and competing requests', () => {
  const fx = FaultFixture.install();

  it('two workers and one API on one database: every copy sent once', async () => {
    const total = 300;
    fx.relay.mode = { kind: 'accept', delayMs: 20 };
    const api = await fx.start('two-workers-api', 'api');
    await putRecipients(api.url, 10);
    await fx.start('two-workers-1', 'worker');
    await fx.start('two-workers-2', 'worker');
    const ids = await postMails(api.url, total, 10);

    const allSent = await waitAllSent(fx.pg, fx.databaseUrl, total, 90_000);
    const t = await tally(api.url, ids, fx.relay);
    console.log(describeTally('two workers', t));
    expect(allSent).toBe(true);
    expect(t.sent).toBe(total);
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
  });

  it('20 concurrent POST /v1/mails with one Idempotency-Key: one mail, every answer 202 (replayed) or 409, one mail id', async () => {
    const service = await fx.start('idempotency', 'all');
    await putRecipients(service.url, 1);
    const key = randomUUID();
    const body = mailEvent(receiverIds(1)[0]);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => call('POST', `${service.url}/v1/mails`, body, { 'idempotency-key': key })),
    );

    const byStatus: Record<string, number> = {};
    for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    const accepted = answers.filter((a) => a.status === 202);
    const replayed = accepted.filter((a) => a.headers.get('idempotent-replayed') === 'true');
    const mailIds = new Set(accepted.map((a) => (a.body as { id: string }).id));
    const conflicts = answers.filter((a) => a.status === 409);
    const [{ n: stored }] = await fx.pg.query<{ n: number }>(fx.databaseUrl, 'SELECT count(*)::int AS n FROM mail');
    console.log(
      `one Idempotency-Key, 20 concurrent POSTs: ${JSON.stringify(byStatus)}, ${replayed.length} replayed, ${mailIds.size} distinct mail id(s), ${stored} mail(s) stored`,
    );

    expect(Object.keys(byStatus).filter((status) => status !== '202' && status !== '409')).toEqual([]);
    expect(stored).toBe(1);
    expect(mailIds.size).toBe(1);
    // Exactly one answer is the original; every other 202 says it is a replay.
    expect(accepted.length - replayed.length).toBe(1);
    expect(conflicts.every((a) => (a.body as { name?: string }).name === 'CONFLICT')).toBe(true);

    // The one mail is delivered once.
    expect(await waitAllSent(fx.pg, fx.databaseUrl, 1, 30_000)).toBe(true);
    const t = await tally(service.url, [...mailIds], fx.relay);
    console.log(describeTally('idempotent mail', t));
    expect(t.received).toBe(1);
  });
});
