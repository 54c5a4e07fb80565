import { ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { freePort } from '../src/database/embedded-postgres';
import { MailBody, settled, waitUntil } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

const ROOT = join(__dirname, '..');
const DOCUMENT = join(ROOT, 'openapi', 'communication.yaml');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

/**
 * The committed OpenAPI document against third-party tools, as a client author would use them:
 * Redocly's linter, and Stoplight Prism as a validating proxy in front of the real service. A
 * representative request of every operation and of each kind of answer (2xx, 4xx with the error
 * body, replays, ETag, Location, nullable fields) goes through Prism, which checks each request and
 * each answer against the document; the spec fails on any violation it reports. (Running every
 * e2e spec through Prism would add minutes to `npm test`; this set covers every path and status
 * family in seconds.)
 */
describe('OpenAPI document: redocly lint and a Prism validation proxy in front of the service', () => {
  it('passes redocly lint with no error', async () => {
    const { stdout, stderr } = await promisify(execFile)(bin('redocly'), ['lint', DOCUMENT, '--format=stylish'], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    }).catch((error: { stdout: string; stderr: string }) => ({
      stdout: error.stdout,
      stderr: `${error.stderr}\nexit: failed`,
    }));
    expect(`${stdout}\n${stderr}`).not.toMatch(/\berror\b|exit: failed/i);
  });

  describe('behind Prism', () => {
    let inbox: SmtpInbox;
    let service: TestApp;
    let prism: ChildProcess;
    let prismUrl: string;
    const output: string[] = [];
    const KEY = 'conformance-key-0123456789abcdef';
    // Access control on, as in production: the document says every call but the probes needs a key.
    const api = () => {
      const agent = request(prismUrl);
      const auth = <T extends { set(name: string, value: string): T }>(test: T): T =>
        test.set('Authorization', `Bearer ${KEY}`);
      return {
        get: (path: string) => auth(agent.get(path)),
        post: (path: string) => auth(agent.post(path)),
        put: (path: string) => auth(agent.put(path)),
        patch: (path: string) => auth(agent.patch(path)),
        delete: (path: string) => auth(agent.delete(path)),
      };
    };

    beforeAll(async () => {
      inbox = await startInbox();
      service = await startApp({
        databaseUrl: await createTestDatabase(),
        smtpUrl: inbox.smtpUrl,
        env: { AUTH_MODE: 'on', API_KEYS: `conformance:${KEY}` },
      });
      const port = await freePort(0);
      prismUrl = `http://127.0.0.1:${port}`;
      prism = spawn(
        bin('prism'),
        ['proxy', DOCUMENT, service.url, '--host', '127.0.0.1', '--port', String(port), '--errors=false'],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const collect = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      prism.stdout!.on('data', collect);
      prism.stderr!.on('data', collect);
      const deadline = Date.now() + 45_000;
      while (!output.some((line) => /listening on/i.test(line))) {
        if (Date.now() > deadline || prism.exitCode !== null)
          throw new Error(`Prism did not start:\n${output.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }, 90_000);

    afterAll(async () => {
      prism?.kill('SIGTERM');
      await service?.close();
      await inbox?.stop();
    });

    it('reports no violation for a representative request of every operation', async () => {
      // Recipients: 201 then 200, read, delete (204).
      await api()
        .put('/v1/recipients/camille')
        .send({ email: 'camille@voyages.test', firstName: 'Camille', locale: 'fr' })
        .expect(201);
      await api()
        .put('/v1/recipients/camille')
        .send({ email: 'camille@voyages.test', firstName: 'Camille', lastName: 'Martin', locale: 'fr' })
        .expect(200);
      await api().put('/v1/recipients/gone').send({ email: 'gone@voyages.test' }).expect(201);
      await api().get('/v1/recipients/camille').expect(200);
      await api().delete('/v1/recipients/gone').expect(204);
      await api().get('/v1/recipients/gone').expect(404);

      // Mails: accepted, replayed, refused, sent, listed, rescheduled, cancelled, retried (409).
      const mail = {
        receiversId: ['camille'],
        category: 'CLIENT_TRIP_BOOKING_NOTIFICATION',
        reservationId: 'RES-1',
        publicationId: 'PUB-1',
      };
      const variables = {
        tripTitle: 'Calanques',
        departureDate: '2027-05-14',
        amount: { amount: 480, currency: 'EUR' },
        travellers: 2,
      };
      const accepted = await api()
        .post('/v1/mails')
        .set('Idempotency-Key', 'conformance-1')
        .send({ ...mail, variables })
        .expect(202);
      await api()
        .post('/v1/mails')
        .set('Idempotency-Key', 'conformance-1')
        .send({ ...mail, variables })
        .expect(202)
        .expect('Idempotent-Replayed', 'true');
      await api().post('/v1/mails').set('Idempotency-Key', 'conformance-1').send(mail).expect(422);
      await api()
        .post('/v1/mails')
        .send({ receiversId: ['camille'], category: 'CLIENT_PAYMENT_NOTIFICATION' })
        .expect(400);
      await api()
        .post('/v1/mails')
        .send({ ...mail, variables: { tripTitel: 'x' } })
        .expect(400);
      await waitUntil(
        'the mail settled',
        async () =>
          settled(
            (
              await request(service.url)
                .get(`/v1/mails/${accepted.body.id}`)
                .set('Authorization', `Bearer ${KEY}`)
                .expect(200)
            ).body as MailBody,
          ),
        20_000,
        200,
      );
      await api().get(`/v1/mails/${accepted.body.id}`).expect(200);
      await api().get(`/v1/mails/${accepted.body.id}/deliveries/camille/attempts`).expect(200);
      await api().post(`/v1/mails/${accepted.body.id}/retry`).expect(409);
      await api().delete(`/v1/mails/${accepted.body.id}`).expect(409);
      await api().get('/v1/mails/9b2f7c52-51c4-4d83-9d35-8d7f0c6f3a10').expect(404);
      await api().get('/v1/mails').query({ category: 'CLIENT_TRIP_BOOKING_NOTIFICATION', sizePage: 5 }).expect(200);
      await api().get('/v1/mails').expect(200);
      const later = await api()
        .post('/v1/mails')
        .send({ ...mail, scheduledAt: '2099-01-01T08:00:00.000Z' })
        .expect(202);
      await api().patch(`/v1/mails/${later.body.id}`).send({ scheduledAt: '2099-01-02T08:00:00.000Z' }).expect(200);
      await api().delete(`/v1/mails/${later.body.id}`).expect(200);
      await api().post('/v1/mails/cancellations').send({ reservationId: 'RES-NONE' }).expect(200);
      await api()
        .post('/v1/mails/batch')
        .send([mail, { ...mail, reservationId: undefined }])
        .expect(200);
      // Items are judged one by one: a batch holding an invalid one is a valid request (200, that item 400).
      const batch = await api()
        .post('/v1/mails/batch')
        .send([mail, { ...mail, category: 'NOT_A_CATEGORY', receiversId: 'camille' }])
        .expect(200);
      expect(batch.body.results.map((result: { status: number }) => result.status)).toEqual([202, 400]);

      // Templates.
      await api().get('/v1/templates').expect(200);
      await api().get('/v1/templates/TRIP_REMINDER_NOTIFICATION').expect(200);
      await api()
        .get('/v1/templates/TRIP_REMINDER_NOTIFICATION/preview')
        .query({ locale: 'en', format: 'text' })
        .expect(200);
      await api().get('/v1/templates/TRIP_REMINDER_NOTIFICATION/preview').expect(200);

      // Contact us.
      const contact = await api()
        .post('/v1/contacts')
        .send({ name: 'Camille', mail: 'camille@voyages.test', object: 'Question', message: 'Bonjour' })
        .expect(201);
      await api()
        .post('/v1/contacts')
        .send({
          name: 'Support',
          mail: 'support@voyages.test',
          object: 'Re',
          message: 'Réponse',
          conversationId: contact.body.id,
        })
        .expect(201);
      await api().get(`/v1/contacts/${contact.body.id}`).expect(200);
      await api().get(`/v1/contacts/${contact.body.id}/messages`).query({ sizePage: 3 }).expect(200);

      // Conversations: created without a message (lastMessage null), ETag and If-Match, messages.
      const conversation = {
        tripPublicationId: 'PUB-1',
        tripReference: 'TRIP-2027-001',
        establishmentId: 'EST-1',
        customerId: 'customer-1',
      };
      const created = await api().post('/v1/conversations').send(conversation).expect(201);
      const read = await api().get(`/v1/conversations/${created.body.id}`).expect(200);
      await api()
        .put(`/v1/conversations/${created.body.id}`)
        .set('If-Match', '"stale"')
        .send({ ...conversation, status: 'CLOSED' })
        .expect(412);
      await api()
        .put(`/v1/conversations/${created.body.id}`)
        .set('If-Match', read.headers.etag)
        .send({ ...conversation, status: 'OPEN' })
        .expect(200);
      await api()
        .patch(`/v1/conversations/${created.body.id}/assigned-agent`)
        .send({ assignedAgentId: 'agent-1' })
        .expect(200);
      const message = await api()
        .post(`/v1/conversations/${created.body.id}/messages`)
        .send({ transmitterId: 'customer-1', content: 'Bonjour' })
        .expect(201);
      await api().get(`/v1/conversations/${created.body.id}/messages/${message.body.id}`).expect(200);
      await api()
        .patch(`/v1/conversations/${created.body.id}/messages/${message.body.id}`)
        .send({ status: 'READ' })
        .expect(200);
      await api()
        .patch(`/v1/conversations/${created.body.id}/messages/${message.body.id}`)
        .send({ status: 'SENT' })
        .expect(409);
      await api().get(`/v1/conversations/${created.body.id}/messages`).expect(200);
      await api().get('/v1/conversations').query({ customerId: 'customer-1' }).expect(200);
      await api()
        .put(`/v1/conversations/${created.body.id}/read-marker`)
        .send({ participantId: 'agent-1', lastReadMessageId: message.body.id })
        .expect(200);
      await api().get('/v1/participants/agent-1/unread').expect(200);
      await api().get(`/v1/conversations/${created.body.id}/timeline`).expect(200);

      // Suppressions.
      await api().put('/v1/suppressions/bounced@voyages.test').send({ note: 'asked by phone' }).expect(201);
      await api().put('/v1/suppressions/bounced@voyages.test').send({}).expect(200);
      await api().get('/v1/suppressions/bounced@voyages.test').expect(200);
      await api().get('/v1/suppressions').query({ reason: 'MANUAL' }).expect(200);
      await api().delete('/v1/suppressions/bounced@voyages.test').expect(204);

      // Webhooks (an endpoint no event of this spec reaches).
      const hook = await api()
        .post('/v1/webhooks')
        .send({ url: 'http://127.0.0.1:9/hooks', events: ['mail.cancelled'], description: 'conformance' })
        .expect(201);
      await api().get('/v1/webhooks').expect(200);
      await api().get(`/v1/webhooks/${hook.body.id}`).expect(200);
      await api().patch(`/v1/webhooks/${hook.body.id}`).send({ enabled: false }).expect(200);
      await api().get(`/v1/webhooks/${hook.body.id}/deliveries`).expect(200);
      await api().delete(`/v1/webhooks/${hook.body.id}`).expect(204);

      // Operations.
      // Probes are open: an orchestrator sends no key.
      await request(prismUrl).get('/health').expect(200);
      await request(prismUrl).get('/health/ready').expect(200);
      await api().get('/metrics').expect(200);

      const violations = output.filter((line) => /violation|✖/i.test(line));
      expect(violations).toEqual([]);
    });
  });
});
