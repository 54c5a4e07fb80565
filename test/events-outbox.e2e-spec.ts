import { Client, Notification } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { MaintenanceJob } from '../src/queue/maintenance.job';
import { EventsRepository } from '../src/events/events.repository';
import { waitUntil } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

/** The outbox core: events written with their change, announced on commit only, replayable, kept 24 h. */
describe('Events outbox (real Postgres, LISTEN/NOTIFY)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let databaseUrl: string;
  let listener: Client;
  const notified: string[] = [];
  const api = () => request(service.url);

  beforeAll(async () => {
    inbox = await startInbox();
    databaseUrl = await createTestDatabase();
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl });
    listener = new Client({ connectionString: databaseUrl });
    await listener.connect();
    listener.on('notification', (n: Notification) => notified.push(...(n.payload ?? '').split(',')));
    await listener.query('LISTEN events');
  });

  afterAll(async () => {
    await listener?.end();
    await service?.close();
    await inbox?.stop();
  });

  const events = (): EventsRepository => service.app.get(EventsRepository);

  it('writes conversation and message events with the change, with their routing and correlation id, and announces their ids', async () => {
    const created = await api()
      .post('/v1/conversations')
      .set('X-Correlation-ID', 'outbox-test-1')
      .send({
        tripPublicationId: 'TRIP-1',
        tripReference: 'REF-1',
        establishmentId: 'EST-1',
        customerId: 'customer-9',
        lastMessage: { content: 'Bonjour' },
      })
      .expect(201);
    const conversation = created.body as { id: string; participants: string[]; lastMessage: { id: string } };
    const stored = await events().findAfter('0', 100, { conversationId: conversation.id });
    expect(stored.map((e) => e.type)).toEqual(['conversation.created', 'message.created']);
    expect(stored[0]).toMatchObject({
      correlationId: 'outbox-test-1',
      participantIds: ['customer-9'],
      data: { id: conversation.id, tripReference: 'REF-1' },
    });
    expect(stored[1].data).toMatchObject({ id: conversation.lastMessage.id, content: 'Bonjour' });
    await waitUntil('both ids announced', () => stored.every((e) => notified.includes(e.id)), 5000);

    const byParticipant = await events().findAfter(stored[0].id, 100, { participantId: 'customer-9' });
    expect(byParticipant.map((e) => e.id)).toEqual([stored[1].id]);
  });

  it('writes nothing and announces nothing for a change that rolled back', async () => {
    const dataSource = service.app.get<DataSource>(getDataSourceToken());
    const before = await events().findAfter('0', 1000);
    const ids = await dataSource
      .transaction(async (manager) => {
        const written = await events().append(manager, [{ type: 'contact.created', data: { id: 'rolled-back' } }]);
        throw Object.assign(new Error('roll back'), { written });
      })
      .catch((error: { written: string[] }) => error.written);
    expect(ids).toHaveLength(1);
    // A later committed event is announced: the rolled-back one was not, before or with it.
    const [committed] = await dataSource.transaction((manager) =>
      events().append(manager, [{ type: 'contact.created', data: { id: 'kept' } }]),
    );
    await waitUntil('the committed id announced', () => notified.includes(committed), 5000);
    expect(notified).not.toContain(ids[0]);
    const after = await events().findAfter('0', 1000);
    expect(after.length).toBe(before.length + 1);
    expect(await events().findByIds([ids[0]])).toEqual([]);
  });

  it('deletes events older than 24 hours and keeps the others', async () => {
    const dataSource = service.app.get<DataSource>(getDataSourceToken());
    const [old, recent] = await dataSource.transaction((manager) =>
      events().append(manager, [
        { type: 'contact.created', data: { id: 'old' } },
        { type: 'contact.created', data: { id: 'recent' } },
      ]),
    );
    await dataSource.query(`UPDATE event SET created_at = now() - interval '25 hours' WHERE id = $1`, [old]);
    expect((await service.app.get(MaintenanceJob).run()).events).toBe(1);
    expect((await events().findByIds([old, recent])).map((e) => e.id)).toEqual([recent]);
  });
});
