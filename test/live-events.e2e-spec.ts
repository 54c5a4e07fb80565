import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { EventStreamHub } from '../src/events/event-stream.hub';
import { createTestDatabase, LogCapture, startApp, startInbox, TestApp } from './harness';
import { waitUntil } from './fixtures';
import { SseClient } from './sse-client';
import { AUDIENCE, ISSUER } from './tokens';

const SERVICE_KEY = 'svc-key-live-0123456789abcdef';
const service = { authorization: `Bearer ${SERVICE_KEY}` };

/**
 * Server-Sent Events on two instances of the service sharing one database, with access control
 * on: an event written through one reaches streams opened on the other (LISTEN/NOTIFY), a client
 * that reconnects with Last-Event-ID gets what it missed, tokens may come as ?access_token= and are
 * never logged, streams end cleanly when an instance stops.
 */
describe('Live events (Server-Sent Events, two instances, real Postgres)', () => {
  let inbox: SmtpInbox;
  let one: TestApp;
  let two: TestApp;
  const logs = new LogCapture();
  const clients: SseClient[] = [];
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = (sub: string, roles: string[], establishments: string[] = []) =>
    new SignJWT({ roles, establishments })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(sub)
      .setExpirationTime('5m')
      .sign(privateKey);

  beforeAll(async () => {
    inbox = await startInbox();
    const databaseUrl = await createTestDatabase();
    const env = {
      AUTH_MODE: 'on',
      API_KEYS: `booking:${SERVICE_KEY}`,
      JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_ALGORITHMS: 'ES256',
      SSE_HEARTBEAT_SECONDS: '1',
      // Shorter than a stream lives in these tests: streams must not be cut by it.
      REQUEST_TIMEOUT_SECONDS: '2',
    };
    one = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env, logs });
    two = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await one?.close();
    await two?.close();
    await inbox?.stop();
  });

  async function open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = await SseClient.open(url, headers);
    clients.push(client);
    return client;
  }

  let seq = 0;
  async function conversation(customerId: string, agentId: string): Promise<string> {
    seq += 1;
    const res = await request(one.url)
      .post('/v1/conversations')
      .set(service)
      .send({
        tripPublicationId: `TRIP-${seq}`,
        tripReference: `VOY-${seq}`,
        establishmentId: 'EST-1',
        customerId,
        assignedAgentId: agentId,
      })
      .expect(201);
    return res.body.id as string;
  }
  async function post(url: string, id: string, transmitterId: string, content: string): Promise<{ id: string }> {
    const res = await request(url)
      .post(`/v1/conversations/${id}/messages`)
      .set(service)
      .send({ transmitterId, content })
      .expect(201);
    return res.body as { id: string };
  }

  it('an event written through one instance reaches a stream opened on the other, with its id, name and resource', async () => {
    const id = await conversation('cust-1', 'agent-1');
    const stream = await open(`${two.url}/v1/conversations/${id}/events`, service);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['x-correlation-id']).toBeDefined();
    const message = await post(one.url, id, 'agent-1', 'Bonjour, votre chambre est prête');
    const [created] = await stream.waitFor((e) => e.event === 'message.created');
    expect(created.id).toMatch(/^\d+$/);
    const data = JSON.parse(created.data!);
    expect(data).toMatchObject({
      id: message.id,
      conversationId: id,
      content: 'Bonjour, votre chambre est prête',
      status: 'SENT',
    });
    expect(data.links.map((l: { rel: string }) => l.rel)).toContain('self');
    await stream.waitFor((e) => e.event === 'conversation.updated');

    const read = await request(one.url)
      .put(`/v1/conversations/${id}/read-marker`)
      .set(service)
      .send({ participantId: 'cust-1', lastReadMessageId: message.id })
      .expect(200);
    const [marker] = await stream.waitFor((e) => e.event === 'read-marker.updated');
    expect(JSON.parse(marker.data!)).toMatchObject({
      conversationId: id,
      participantId: 'cust-1',
      lastReadMessageId: message.id,
      unreadCount: read.body.unreadCount,
    });
  });

  it('a participant stream gets the events of all their conversations, and heartbeats keep it open past the request timeout', async () => {
    const a = await conversation('cust-2', 'agent-2');
    const b = await conversation('cust-2', 'agent-3');
    const customer = await token('cust-2', ['customer']);
    // A browser's EventSource sends no header: the token comes in the query.
    const stream = await open(`${one.url}/v1/participants/cust-2/events?access_token=${customer}`);
    expect(stream.status).toBe(200);
    await post(two.url, a, 'agent-2', 'Première conversation');
    await post(one.url, b, 'agent-3', 'Seconde conversation');
    const created = await stream.waitFor((e) => e.event === 'message.created', 2);
    expect(created.map((e) => JSON.parse(e.data!).conversationId).sort()).toEqual([a, b].sort());
    // A fixed wait on purpose: what is tested is a duration, the stream outliving REQUEST_TIMEOUT_SECONDS (2 s).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(stream.ended).toBe(false);
    expect(stream.comments.length).toBeGreaterThanOrEqual(2);
    // The token never reaches the request log.
    const urls = logs.lines.map((line) => JSON.stringify(line.req ?? ''));
    expect(urls.some((u) => u.includes('/v1/participants/cust-2/events'))).toBe(false); // still open: not logged yet
    const hub = one.app.get(EventStreamHub);
    const streamsBefore = hub.openStreams;
    stream.close();
    // The instance has seen it close (what it logs about that is written by then).
    await waitUntil('the instance seeing the stream closed', () => hub.openStreams < streamsBefore, 5000);
    expect(JSON.stringify(logs.lines)).not.toContain(customer);
  });

  it('a reconnecting client with Last-Event-ID receives what it missed, in order, and nothing twice', async () => {
    const id = await conversation('cust-3', 'agent-4');
    const first = await open(`${one.url}/v1/conversations/${id}/events`, service);
    await post(two.url, id, 'agent-4', 'avant');
    await first.waitFor((e) => e.event === 'message.created');
    await first.waitFor((e) => e.event === 'conversation.updated');
    const last = first.lastEventId!;
    first.close();
    const missed = [];
    for (const content of ['pendant 1', 'pendant 2', 'pendant 3'])
      missed.push(await post(one.url, id, 'agent-4', content));
    const again = await open(`${two.url}/v1/conversations/${id}/events`, { ...service, 'last-event-id': last });
    const replayed = await again.waitFor((e) => e.event === 'message.created', 3);
    expect(replayed.map((e) => JSON.parse(e.data!).id)).toEqual(missed.map((m) => m.id));
    const live = await post(one.url, id, 'agent-4', 'après');
    const all = await again.waitFor((e) => e.event === 'message.created', 4);
    expect(all.map((e) => JSON.parse(e.data!).id)).toEqual([...missed.map((m) => m.id), live.id]);
    const ids = again.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((eventId) => BigInt(eventId!) > BigInt(last))).toBe(true);
  });

  it('the same policy decides who may open a stream: another person’s conversation answers 404, another participant id 403, no token 401', async () => {
    const id = await conversation('cust-4', 'agent-5');
    const stranger = await token('cust-other', ['customer']);
    const customer = await token('cust-4', ['customer']);
    const refused = await open(`${one.url}/v1/conversations/${id}/events?access_token=${stranger}`);
    expect(refused.status).toBe(404);
    const otherInbox = await open(`${one.url}/v1/participants/cust-4/events?access_token=${stranger}`);
    expect(otherInbox.status).toBe(403);
    expect((await open(`${one.url}/v1/participants/cust-4/events`)).status).toBe(401);
    const own = await open(`${one.url}/v1/conversations/${id}/events?access_token=${customer}`);
    expect(own.status).toBe(200);
    // Only the two streams take a token in the query.
    await request(one.url).get(`/v1/conversations/${id}?access_token=${customer}`).expect(401);
    const bad = await open(`${one.url}/v1/conversations/${id}/events`, { ...service, 'last-event-id': 'yesterday' });
    expect(bad.status).toBe(400);
    // The refused streams were logged, with their token redacted.
    const logged = () =>
      logs.lines
        .map((line) => (line.req as { url?: string } | undefined)?.url ?? '')
        .filter((url) => url.startsWith(`/v1/conversations/${id}/events`));
    await waitUntil('the refused stream logged', () =>
      logged().includes(`/v1/conversations/${id}/events?access_token=REDACTED`),
    );
    expect(JSON.stringify(logs.lines)).not.toContain(stranger);
  });

  it('streams end cleanly when their instance shuts down', async () => {
    const id = await conversation('cust-5', 'agent-6');
    const stream = await open(`${two.url}/v1/conversations/${id}/events`, service);
    await post(one.url, id, 'agent-6', 'hello');
    await stream.waitFor((e) => e.event === 'message.created');
    await two.close();
    await stream.until(() => stream.ended);
    two = undefined as unknown as TestApp;
  });
});
