import request from 'supertest';
import { MailDeliveryWorker } from '../src/delivery/mail-delivery.worker';
import { FaultRelay } from './faults/fault-relay';
import { createTestDatabase, startApp, TestApp } from './harness';
import { deliveriesAtRest, MailBody, putRecipients, settled, waitForMail, waitUntil } from './fixtures';

interface Attempt {
  attempt: number;
  startedAt: string;
  finishedAt: string | null;
  outcome: string | null;
}

// A lease of 8 s: greeting and connection timeouts of 2 s, a socket timeout of 4 s (smtpTimeouts).
const LEASE_SECONDS = 8;

/**
 * Contract A1: a cancellation reaches deliveries in the middle of an attempt, while the relay
 * refuses or stalls (the incidents during which operators cancel things). A real SMTP relay on
 * 127.0.0.1 that refuses, stalls or accepts; the service in-process on a real Postgres.
 */
describe('Cancelling mails in flight (real Postgres, a relay that refuses or stalls)', () => {
  let databaseUrl: string;
  let relay: FaultRelay;
  let service: TestApp;
  const api = () => request(service.url);
  let reservation = 0;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    relay = new FaultRelay();
    await relay.start();
    service = await startApp({
      databaseUrl,
      smtpUrl: relay.url,
      env: { DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS) },
    });
    await putRecipients(service.url, [
      { id: 'camille', email: 'camille@example.com' },
      { id: 'john', email: 'john@example.com' },
    ]);
  });

  afterAll(async () => {
    await service?.close();
    await relay?.dispose();
  });

  beforeEach(() => {
    relay.mode = { kind: 'accept' };
  });

  const post = async (receiversId = ['camille']): Promise<{ id: string; reservationId: string }> => {
    const reservationId = `RES-A1-${++reservation}`;
    const res = await api()
      .post('/v1/mails')
      .send({ category: 'CLIENT_PAYMENT_NOTIFICATION', receiversId, reservationId })
      .expect(202);
    return { id: res.body.id as string, reservationId };
  };

  const attempts = async (mailId: string, receiverId = 'camille'): Promise<Attempt[]> =>
    (await api().get(`/v1/mails/${mailId}/deliveries/${receiverId}/attempts`).expect(200)).body as Attempt[];

  /** Waits until the delivery is in an attempt: its last attempt is open. */
  const inAttempt = (mailId: string, receiverId = 'camille'): Promise<void> =>
    waitUntil(
      `mail ${mailId} in an attempt`,
      async () => (await attempts(mailId, receiverId)).at(-1)?.finishedAt === null,
      20_000,
      20,
    );

  const receivedOf = (mailId: string) => relay.received.filter((copy) => copy.mailId === mailId).length;

  it('a relay that refuses connections: DELETE and a cancellation made during attempts stop both mails; nothing of them arrives once the relay is back', async () => {
    relay.mode = { kind: 'refuse', holdMs: 1500 };
    const deleted = await post();
    const byBooking = await post();

    await inAttempt(deleted.id);
    const answer = await api().delete(`/v1/mails/${deleted.id}`).expect(202);
    expect(answer.body).toMatchObject({
      id: deleted.id,
      status: 'PENDING',
      cancelRequested: true,
      deliveries: [expect.objectContaining({ cancelRequested: true })],
    });
    expect(answer.body.links.map((link: { rel: string }) => link.rel)).not.toContain('cancel');
    const deletedAt = Date.now();

    await inAttempt(byBooking.id);
    const cancellation = await api()
      .post('/v1/mails/cancellations')
      .send({ reservationId: byBooking.reservationId })
      .expect(200);
    expect(cancellation.body).toEqual({ count: 0, mailIds: [], requestedMailIds: [byBooking.id] });
    const cancelledAt = Date.now();

    // Their attempts end (refused): CANCELLED, with no attempt after the answer.
    for (const [mail, answeredAt] of [
      [deleted, deletedAt],
      [byBooking, cancelledAt],
    ] as const) {
      const final = await waitForMail(service.url, mail.id, settled);
      expect(final).toMatchObject({
        status: 'CANCELLED',
        cancelRequested: true,
        deliveries: [expect.objectContaining({ status: 'CANCELLED', error: null })],
      });
      // No attempt started after the cancellation was answered.
      const list = await attempts(mail.id);
      expect(list.every((a) => a.finishedAt !== null && Date.parse(a.startedAt) < answeredAt)).toBe(true);
      expect(final.deliveries[0].attempts).toBe(list.length);
    }
    // The relay comes back: a mail posted now goes through, the two cancelled ones never do.
    relay.mode = { kind: 'accept' };
    const control = await post();
    expect((await waitForMail(service.url, control.id, settled)).status).toBe('SENT');
    await deliveriesAtRest(databaseUrl);
    expect(receivedOf(deleted.id)).toBe(0);
    expect(receivedOf(byBooking.id)).toBe(0);
    expect(receivedOf(control.id)).toBe(1);
  });

  it('a relay that stalls past the socket timeout: cancelled during the unanswered DATA, never sent, retried never', async () => {
    relay.mode = { kind: 'stall', seconds: 60 };
    const deleted = await post();
    const byBooking = await post(['john']);
    await inAttempt(deleted.id);
    await inAttempt(byBooking.id, 'john');
    // Both copies are with the relay, waiting for its answer.
    await waitUntil('both copies with the relay', () => relay.inFlight >= 2, 10_000, 20);

    expect((await api().delete(`/v1/mails/${deleted.id}`).expect(202)).body.cancelRequested).toBe(true);
    expect(
      (await api().post('/v1/mails/cancellations').send({ reservationId: byBooking.reservationId }).expect(200)).body
        .requestedMailIds,
    ).toEqual([byBooking.id]);

    // The relay recovers while the two copies still wait for its answer: the client has given up on them.
    relay.mode = { kind: 'accept' };
    for (const mail of [deleted, byBooking]) {
      const final = await waitForMail(service.url, mail.id, settled);
      expect(final.status).toBe('CANCELLED');
    }
    expect((await attempts(deleted.id)).map((a) => a.outcome)).toEqual(['TEMPORARY_FAILURE']);
    expect((await attempts(byBooking.id, 'john')).map((a) => a.outcome)).toEqual(['TEMPORARY_FAILURE']);
    const control = await post();
    expect((await waitForMail(service.url, control.id, settled)).status).toBe('SENT');
    expect(receivedOf(deleted.id)).toBe(0);
    expect(receivedOf(byBooking.id)).toBe(0);
  });

  it('an attempt the relay accepts after the cancellation: the copy is SENT (it left), the mail says the cancellation came too late', async () => {
    relay.mode = { kind: 'stall', seconds: 1.5 };
    const mail = await post();
    await inAttempt(mail.id);
    await waitUntil('the copy with the relay', () => relay.inFlight >= 1, 10_000, 20);
    expect((await api().delete(`/v1/mails/${mail.id}`).expect(202)).body.cancelRequested).toBe(true);

    const final = await waitForMail(service.url, mail.id, settled);
    expect(final).toMatchObject({
      status: 'SENT',
      cancelRequested: true,
      deliveries: [expect.objectContaining({ status: 'SENT', cancelRequested: true })],
    });
    expect(receivedOf(mail.id)).toBe(1);
    expect((await api().delete(`/v1/mails/${mail.id}`).expect(409)).body.name).toBe('CONFLICT');
  });
});

describe('A cancelled mail is never retried (real Postgres)', () => {
  it('retry answers 409 for a mail with a FAILED delivery once a cancellation reached the other', async () => {
    const databaseUrl = await createTestDatabase();
    const relay = new FaultRelay();
    await relay.start();
    relay.mode = { kind: 'refuse', holdMs: 1500 };
    const service = await startApp({
      databaseUrl,
      smtpUrl: relay.url,
      env: { DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS) },
    });
    try {
      await putRecipients(service.url, [
        { id: 'camille', email: 'camille@example.com' },
        { id: 'gone', email: 'gone@example.com' },
      ]);
      await request(service.url).put('/v1/suppressions/gone@example.com').expect(201);
      const posted = await request(service.url)
        .post('/v1/mails')
        .send({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['camille', 'gone'] })
        .expect(202);
      // 'gone' fails at once (SUPPRESSED); camille's attempt waits on the refusing relay.
      await waitForMail(service.url, posted.body.id, (mail) => mail.deliveries[1].status === 'FAILED');
      expect((await request(service.url).delete(`/v1/mails/${posted.body.id}`).expect(202)).body.cancelRequested).toBe(
        true,
      );
      const final = await waitForMail(service.url, posted.body.id, settled);
      expect(final.deliveries.map((d) => d.status)).toEqual(['CANCELLED', 'FAILED']);
      expect(final.links.map((link) => link.rel)).toEqual(['self']);
      // A retry would send the booking's mail to the failed receiver after its cancellation.
      expect((await request(service.url).post(`/v1/mails/${posted.body.id}/retry`).expect(409)).body.name).toBe(
        'CONFLICT',
      );
    } finally {
      await service.close();
      await relay.dispose();
    }
  });
});

describe('A cancellation reaching the attempt of a worker that then died (real Postgres)', () => {
  it('cancels the waiting delivery at once, records the one of the dead attempt CANCELLED when its lease runs out, and starts no attempt', async () => {
    const databaseUrl = await createTestDatabase();
    const relay = new FaultRelay();
    await relay.start();
    const apps: TestApp[] = [];
    const env = { DELIVERY_LEASE_SECONDS: '5' };
    try {
      // An API alone: nothing claims but the "worker" below, which claims one delivery and never sends it.
      const api = await startApp({ databaseUrl, smtpUrl: relay.url, env: { ...env, RUN_MODE: 'api' } });
      apps.push(api);
      await putRecipients(api.url, [
        { id: 'camille', email: 'camille@example.com' },
        { id: 'john', email: 'john@example.com' },
      ]);
      const posted = await request(api.url)
        .post('/v1/mails')
        .send({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: ['camille', 'john'] })
        .expect(202);
      const [claimed] = await api.app.get(MailDeliveryWorker).claim(1, 5);
      const waiting = claimed.receiverId === 'camille' ? 'john' : 'camille';

      const answer = await request(api.url).delete(`/v1/mails/${posted.body.id}`).expect(202);
      expect(answer.body).toMatchObject({ status: 'PENDING', cancelRequested: true });
      const byReceiver = new Map((answer.body as MailBody).deliveries.map((d) => [d.receiverId, d]));
      expect(byReceiver.get(waiting)).toMatchObject({ status: 'CANCELLED', cancelRequested: false });
      expect(byReceiver.get(claimed.receiverId)).toMatchObject({ status: 'PENDING', cancelRequested: true });

      // A worker comes up; once the dead claim's lease is over it takes the delivery up, and only records it.
      apps.push(await startApp({ databaseUrl, smtpUrl: relay.url, env: { ...env, RUN_MODE: 'worker' } }));
      const final: MailBody = await waitForMail(api.url, posted.body.id, settled, 30_000);
      expect(final).toMatchObject({ status: 'CANCELLED', cancelRequested: true });
      expect(final.deliveries.map((d) => [d.status, d.attempts])).toEqual([
        ['CANCELLED', claimed.receiverId === 'camille' ? 1 : 0],
        ['CANCELLED', claimed.receiverId === 'john' ? 1 : 0],
      ]);
      const list = (
        await request(api.url).get(`/v1/mails/${posted.body.id}/deliveries/${claimed.receiverId}/attempts`).expect(200)
      ).body as Attempt[];
      expect(list).toEqual([
        expect.objectContaining({ attempt: 1, outcome: 'TEMPORARY_FAILURE', finishedAt: expect.any(String) }),
      ]);
      expect(relay.received).toHaveLength(0);
    } finally {
      for (const app of apps.reverse()) await app.close();
      await relay.dispose();
    }
  });
});
