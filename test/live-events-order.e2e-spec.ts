import { Client } from 'pg';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { EventsRepository } from '../src/events/events.repository';
import { waitUntil } from './fixtures';
import { createTestDatabase, LogCapture, startApp, startInbox, TestApp } from './harness';
import { SseClient, SseEvent } from './sse-client';

/**
 * Event ids are taken at insert and transactions commit in any order: a stream must not send an id
 * while a smaller one may still be committed, or a client that reconnects with that Last-Event-ID
 * never gets the smaller one. Here another transaction takes the smaller id (a raw insert by a
 * separate connection, as any writer does) and stays open while a message is posted through the API.
 */
describe('Live events in id order (transactions committing out of order, real Postgres)', () => {
  let inbox: SmtpInbox;
  let databaseUrl: string;
  let api: TestApp;
  /** Gives up on open transactions after 300 ms instead of 5 s. */
  let impatient: TestApp;
  const logs = new LogCapture();
  const clients: SseClient[] = [];
  const connections: Client[] = [];

  beforeAll(async () => {
    inbox = await startInbox();
    databaseUrl = await createTestDatabase();
    // The app started first keeps the process's log destination (as in live-events.e2e-spec.ts).
    impatient = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env: { SSE_ORDER_WAIT_MS: '300' }, logs });
    api = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl });
    watchReads();
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const connection of connections) await connection.end().catch(() => undefined);
    await api?.close();
    await impatient?.close();
    await inbox?.stop();
  });

  async function open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = await SseClient.open(url, headers);
    clients.push(client);
    expect(client.status).toBe(200);
    return client;
  }

  let seq = 0;
  async function conversation(customerId: string, agentId: string): Promise<string> {
    seq += 1;
    const res = await request(api.url)
      .post('/v1/conversations')
      .send({
        tripPublicationId: `TRIP-O${seq}`,
        tripReference: `VOY-O${seq}`,
        establishmentId: 'EST-1',
        customerId,
        assignedAgentId: agentId,
      })
      .expect(201);
    return res.body.id as string;
  }
  async function post(id: string, transmitterId: string, content: string): Promise<void> {
    await request(api.url).post(`/v1/conversations/${id}/messages`).send({ transmitterId, content }).expect(201);
  }

  /** Begins a transaction that writes an event of the conversation (taking the next id, the trigger announcing it on commit) and leaves it open. */
  async function openTransaction(
    conversationId: string,
  ): Promise<{ connection: Client; eventId: string; xid: string }> {
    const connection = new Client({ connectionString: databaseUrl });
    connections.push(connection);
    await connection.connect();
    await connection.query('BEGIN');
    const { rows } = await connection.query<{ id: string; xid: string }>(
      `INSERT INTO event (type, data, conversation_id, participant_ids) VALUES ('message.updated', $1, $2, NULL)
       RETURNING id::text AS id, pg_current_xact_id()::text AS xid`,
      [JSON.stringify({ conversationId, note: 'written by a slower transaction' }), conversationId],
    );
    return { connection, eventId: rows[0].id, xid: rows[0].xid };
  }

  /** The ids of the conversation's streamed events above `afterId`, from the table, by number (the text alias `id` would sort '10' before '5'). */
  async function storedIds(conversationId: string, afterId: string): Promise<string[]> {
    const reader = new Client({ connectionString: databaseUrl });
    await reader.connect();
    try {
      const { rows } = await reader.query<{ id: string }>(
        `SELECT id::text AS id FROM event WHERE conversation_id = $1 AND id > $2 AND type IN ('message.created', 'message.updated', 'conversation.updated', 'read-marker.updated') ORDER BY event.id`,
        [conversationId, afterId],
      );
      return rows.map((row) => row.id);
    } finally {
      await reader.end();
    }
  }

  /**
   * Transactions the hub of `api` found still open while events waited for them (`held`), then
   * found ended while still waiting (`waitedOut`: what waited was held until then), and the replays
   * it read (conversation, Last-Event-ID).
   */
  const held = new Set<string>();
  const waitedOut = new Set<string>();
  const replays = new Set<string>();
  /**
   * Watches the reads of the hub of `api` (its EventsRepository, spied on): a test waits until the
   * hub holds an event for an open transaction, or has read a replay, before it checks that nothing
   * was sent (a barrier, where a sleep would prove nothing), and checks that it held it until the
   * transaction ended.
   */
  function watchReads(): void {
    const repository = api.app.get(EventsRepository);
    const stillOpen = repository.stillOpen.bind(repository);
    const findAfter = repository.findAfter.bind(repository);
    jest.spyOn(repository, 'stillOpen').mockImplementation(async (xids) => {
      const open = await stillOpen(xids);
      for (const xid of xids) (open.includes(xid) ? held : waitedOut).add(xid);
      return open;
    });
    jest.spyOn(repository, 'findAfter').mockImplementation(async (afterId, limit, filter, upToId) => {
      const page = await findAfter(afterId, limit, filter, upToId);
      if (filter?.conversationId) replays.add(`${filter.conversationId}>${afterId}`);
      return page;
    });
  }
  const heldFor = (xid: string) =>
    waitUntil(`the hub holding events for the open transaction ${xid}`, () => held.has(xid), 4000, 5);

  const ids = (events: SseEvent[]) => events.map((event) => event.id!);
  const ascending = (list: string[]) => [...list].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));

  it('holds an event while a transaction with a smaller id is open, then sends both in id order; a reconnection misses nothing and repeats nothing', async () => {
    const id = await conversation('cust-o1', 'agent-o1');
    const stream = await open(`${api.url}/v1/conversations/${id}/events`);
    const slow = await openTransaction(id);
    await post(id, 'agent-o1', 'committed first, with a larger id');
    await heldFor(slow.xid);
    expect(stream.events).toEqual([]);

    await slow.connection.query('COMMIT');
    const received = await stream.waitFor(() => true, 3);
    expect(ids(received)[0]).toBe(slow.eventId);
    expect(received.map((e) => e.event)).toEqual(['message.updated', 'message.created', 'conversation.updated']);
    expect(ids(received)).toEqual(ascending(ids(received)));
    expect(waitedOut).toContain(slow.xid);
    const last = stream.lastEventId!;
    stream.close();

    // Away: again a transaction takes the next id and stays open while a message commits after it.
    const slower = await openTransaction(id);
    await post(id, 'agent-o1', 'posted while the client was away');
    const again = await open(`${api.url}/v1/conversations/${id}/events`, { 'last-event-id': last });
    // The replay stops below the open transaction's id: what is above it follows once it has ended.
    await heldFor(slower.xid);
    await waitUntil('the replay read', () => replays.has(`${id}>${last}`), 4000, 5);
    expect(again.events).toEqual([]);
    await slower.connection.query('COMMIT');
    const expected = await storedIds(id, last);
    expect(expected).toHaveLength(3);
    expect(expected[0]).toBe(slower.eventId);
    await again.waitFor(() => true, 3);
    expect(waitedOut).toContain(slower.xid);
    // Nothing more (nor twice) comes: a later message's events, sent after, arrive alone.
    await post(id, 'agent-o1', 'after the replay');
    const after = (await storedIds(id, last)).slice(3);
    expect(after).toHaveLength(2);
    await again.waitFor((e) => e.id === after[1]);
    expect(ids(again.events)).toEqual([...expected, ...after]);
  });

  it('an event above a rolled-back one is sent as soon as that transaction has ended', async () => {
    const id = await conversation('cust-o2', 'agent-o2');
    const stream = await open(`${api.url}/v1/conversations/${id}/events`);
    const doomed = await openTransaction(id);
    await post(id, 'agent-o2', 'committed while the other transaction is open');
    await heldFor(doomed.xid);
    expect(stream.events).toEqual([]);

    await doomed.connection.query('ROLLBACK');
    // Well before the 5 s bound: the gap is known to stay empty once its transaction has ended.
    const received = await stream.waitFor(() => true, 2, 2000);
    expect(received.map((e) => e.event)).toEqual(['message.created', 'conversation.updated']);
    expect(ids(received)).toEqual(ascending(ids(received)));
    expect(BigInt(received[0].id!)).toBeGreaterThan(BigInt(doomed.eventId));
    expect(waitedOut).toContain(doomed.xid);
    expect(await storedIds(id, '0')).toEqual(ids(received));
  });

  it('a transaction open longer than SSE_ORDER_WAIT_MS holds nothing back past it: warned about once, not waited for again, its event sent late', async () => {
    const id = await conversation('cust-o3', 'agent-o3');
    const stream = await open(`${impatient.url}/v1/conversations/${id}/events`);
    const stuck = await openTransaction(id);
    await post(id, 'agent-o3', 'not held for ever');
    const first = await stream.waitFor(() => true, 2);
    expect(first.map((e) => e.event)).toEqual(['message.created', 'conversation.updated']);

    // A new short transaction below a message is still waited for; the one given up on is not.
    const brief = await openTransaction(id);
    await post(id, 'agent-o3', 'after a brief transaction');
    await brief.connection.query('COMMIT');
    const next = (await stream.waitFor(() => true, 5)).slice(2);
    expect(next.map((e) => e.event)).toEqual(['message.updated', 'message.created', 'conversation.updated']);
    expect(next[0].id).toBe(brief.eventId);

    await stuck.connection.query('COMMIT');
    await stream.waitFor((e) => e.id === stuck.eventId);
    expect(ids(stream.events).indexOf(stuck.eventId)).toBe(5);
    const warnings = logs.lines.filter(
      (line) => String(line.msg).includes('SSE_ORDER_WAIT_MS') && JSON.stringify(line).includes(`"${stuck.xid}"`),
    );
    expect(warnings).toHaveLength(1);
  });
});
