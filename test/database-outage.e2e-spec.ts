import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { waitUntil } from './fixtures';
import { startApp, startInbox, TestApp } from './harness';
import { PostgresProcess, startPostgresProcess } from './postgres.process';

/**
 * A database outage, with a Postgres of this spec's own that it stops and starts again: requests
 * that need the database answer 503 with Retry-After and the error body, quickly (never a 500,
 * never a hang); readiness fails on the database alone; everything works again once it is back.
 */
describe('Database outage (a dedicated real Postgres, stopped and started)', () => {
  let dir: string;
  let postgres: PostgresProcess | undefined;
  let port: number;
  let inbox: SmtpInbox;
  let service: TestApp;
  const mail = { receiversId: ['user-1'], category: 'PROFILE_COMPLETION_REQUEST' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'communication-outage-'));
    // When run as root the server runs as a `postgres` user, which must reach the data directory.
    await chmod(dir, 0o755);
    postgres = await startPostgresProcess(join(dir, 'pg'));
    port = Number(new URL(postgres.url).port);
    inbox = await startInbox();
    service = await startApp({ databaseUrl: postgres.url, smtpUrl: inbox.smtpUrl, env: { RUN_MODE: 'api' } });
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The error body of a 503 caused by the database, with its Retry-After. */
  function expectUnavailable(res: request.Response): void {
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['x-correlation-id']).toBeDefined();
    expect(res.body).toMatchObject({
      name: 'SERVICE_UNAVAILABLE',
      debug_id: res.headers['x-correlation-id'],
      message: expect.any(String),
      links: [],
    });
    expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED|at .*\.ts:\d+/);
  }

  it('is ready while the database answers', async () => {
    const res = await request(service.url).get('/health/ready').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' }, smtp: { status: 'up' } } });
    await request(service.url).post('/v1/mails').send(mail).expect(202);
  });

  it('answers 503 with Retry-After while the database is down, then works again once it is back', async () => {
    await postgres!.stop();
    postgres = undefined;

    // Each request gets its answer (the connect timeout bounds it): never a hang, never a 500.
    const ready = await request(service.url).get('/health/ready').timeout(15_000);
    expectUnavailable(ready);
    expect(ready.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'database' })]));

    expectUnavailable(await request(service.url).post('/v1/mails').send(mail).timeout(15_000));
    expectUnavailable(await request(service.url).get('/v1/mails').timeout(15_000));
    expectUnavailable(
      await request(service.url).put('/v1/recipients/user-1').send({ email: 'user-1@voyages.test' }).timeout(15_000),
    );
    // What needs no database still answers.
    await request(service.url).get('/health').expect(200);

    postgres = await startPostgresProcess(join(dir, 'pg'), port);
    expect(Number(new URL(postgres.url).port)).toBe(port);
    await waitUntil(
      'the service ready again',
      async () => (await request(service.url).get('/health/ready')).status === 200,
      30_000,
      500,
    );
    const accepted = await request(service.url).post('/v1/mails').send(mail).expect(202);
    await request(service.url).get(`/v1/mails/${accepted.body.id}`).expect(200);
  }, 90_000);
});
