import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { createTestDatabase, LogCapture, startApp, startInbox, TestApp } from './harness';
import { AUDIENCE, bearer, ISSUER, JwksServer, SigningKey, signingKey, signToken, unsignedToken } from './tokens';

const SERVICE_KEY = 'svc_booking_4f7d0c2a9b1e8d63';

const CALLERS = [
  'none',
  'bad key',
  'expired token',
  'wrong audience',
  'other signer',
  'alg none',
  'service',
  'admin',
  'customer A',
  'customer B',
  'agent here',
  'agent elsewhere',
] as const;
type CallerName = (typeof CALLERS)[number];

/** The people behind the tokens (agent here works for EST-1, agent elsewhere for EST-2). */
const PEOPLE = {
  admin: { sub: 'admin-1', roles: ['admin'] },
  'customer A': { sub: 'customer-A', roles: ['customer'] },
  'customer B': { sub: 'customer-B', roles: ['customer'] },
  'agent here': { sub: 'agent-1', roles: ['agent'], establishments: ['EST-1'] },
  'agent elsewhere': { sub: 'agent-2', roles: ['agent'], establishments: ['EST-2'] },
} as const;
type Person = keyof typeof PEOPLE;
const isPerson = (caller: CallerName): caller is Person => caller in PEOPLE;

/**
 * The expected status for each caller: the six that hold no valid credential first, then the service
 * key and the five people.
 */
function expected(
  invalid: number,
  none: number,
  [service, admin, customerA, customerB, agentHere, agentElsewhere]: number[],
): Record<CallerName, number> {
  return {
    none,
    'bad key': invalid,
    'expired token': invalid,
    'wrong audience': invalid,
    'other signer': invalid,
    'alg none': invalid,
    service,
    admin,
    'customer A': customerA,
    'customer B': customerB,
    'agent here': agentHere,
    'agent elsewhere': agentElsewhere,
  };
}
const closed = (statuses: number[]) => expected(401, 401, statuses);

interface Conversation {
  id: string;
  participants: string[];
  links: Array<{ rel: string }>;
}

describe('Access control (AUTH_MODE=on, real keys, tokens and JWKS)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  const jwks = new JwksServer();
  const logs = new LogCapture();
  let key1: SigningKey;
  let headers: Record<CallerName, Record<string, string>>;
  /** C: EST-1, customer A, agent 1. D: EST-2, customer B, agent 2. E: EST-1, customer B, with customer A as a participant. */
  let c: Conversation;
  let d: Conversation;
  let e: Conversation;
  let contactThreadId: string;
  let mailId: string;
  const api = () => request(service.url);
  const as = (caller: CallerName) => headers[caller];

  beforeAll(async () => {
    inbox = await startInbox();
    key1 = await signingKey('k1');
    // Another key pair under the same key id: a token it signs has a signature that does not verify.
    const impostor = await signingKey('k1');
    jwks.keys = [key1.jwk];
    service = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      logs,
      env: {
        AUTH_MODE: 'on',
        API_KEYS: `booking:${SERVICE_KEY}`,
        JWT_JWKS_URL: await jwks.start(),
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        JWT_JWKS_COOLDOWN_SECONDS: '0',
      },
    });
    const tokenOf = async (person: Person) => bearer(await signToken(key1, PEOPLE[person]));
    headers = {
      none: {},
      'bad key': bearer('svc_booking_0000000000000000'),
      'expired token': bearer(await signToken(key1, { ...PEOPLE['customer A'], expiresIn: -3600 })),
      'wrong audience': bearer(await signToken(key1, { ...PEOPLE['customer A'], audience: 'billing' })),
      'other signer': bearer(await signToken(impostor, PEOPLE['customer A'])),
      'alg none': bearer(unsignedToken(PEOPLE.admin)),
      service: bearer(SERVICE_KEY),
      admin: await tokenOf('admin'),
      'customer A': await tokenOf('customer A'),
      'customer B': await tokenOf('customer B'),
      'agent here': await tokenOf('agent here'),
      'agent elsewhere': await tokenOf('agent elsewhere'),
    };

    const open = async (body: Record<string, unknown>) =>
      (
        await api()
          .post('/v1/conversations')
          .set(as('service'))
          .send({ tripPublicationId: 'TRIP-1', tripReference: 'VOY-1', ...body })
          .expect(201)
      ).body as Conversation;
    c = await open({
      establishmentId: 'EST-1',
      customerId: 'customer-A',
      assignedAgentId: 'agent-1',
      lastMessage: { content: 'Bonjour' },
    });
    d = await open({ establishmentId: 'EST-2', customerId: 'customer-B', assignedAgentId: 'agent-2' });
    e = await open({ establishmentId: 'EST-1', customerId: 'customer-B', participants: ['customer-A'] });
    const thread = await api()
      .post('/v1/contacts')
      .set(as('customer A'))
      .send({ name: 'A', mail: 'a@example.com', object: 'Hello', message: 'Hi' })
      .expect(201);
    expect(thread.body.transmitterId).toBe('customer-A');
    contactThreadId = thread.body.id as string;
    await api().put('/v1/recipients/r-1').set(as('service')).send({ email: 'r1@example.com' }).expect(201);
    mailId = (
      await api()
        .post('/v1/mails')
        .set(as('service'))
        .send({ receiversId: ['r-1'], category: 'PROFILE_COMPLETION_REQUEST', testMode: true })
        .expect(202)
    ).body.id as string;
  });

  afterAll(async () => {
    await service?.close();
    await jwks.stop();
    await inbox?.stop();
  });

  /** A fresh message of C from the customer to agent 1, still SENT. */
  async function newMessageOfC(): Promise<string> {
    const res = await api()
      .post(`/v1/conversations/${c.id}/messages`)
      .set(as('service'))
      .send({ transmitterId: 'customer-A', content: 'Hello' })
      .expect(201);
    return res.body.id as string;
  }

  const sameC = () => ({
    tripPublicationId: 'TRIP-1',
    tripReference: 'VOY-1',
    establishmentId: 'EST-1',
    customerId: 'customer-A',
    assignedAgentId: 'agent-1',
    participants: c.participants,
  });
  /** A person writes in their own name; the service writes for agent 1. */
  const transmitter = (caller: CallerName) => (isPerson(caller) ? PEOPLE[caller].sub : 'agent-1');

  //            each row: [service, admin, customer A, customer B, agent here, agent elsewhere]
  const table: Array<[string, (caller: CallerName) => Promise<request.Response>, Record<CallerName, number>]> = [
    ['GET /v1/mails', (who) => api().get('/v1/mails').set(as(who)), closed([200, 200, 403, 403, 403, 403])],
    [
      'GET /v1/mails/{id}',
      (who) => api().get(`/v1/mails/${mailId}`).set(as(who)),
      closed([200, 200, 403, 403, 403, 403]),
    ],
    [
      'POST /v1/mails',
      (who) =>
        api()
          .post('/v1/mails')
          .set(as(who))
          .send({ receiversId: ['r-1'], category: 'PROFILE_COMPLETION_REQUEST', testMode: true }),
      closed([202, 202, 403, 403, 403, 403]),
    ],
    [
      'GET /v1/recipients/{id}',
      (who) => api().get('/v1/recipients/r-1').set(as(who)),
      closed([200, 200, 403, 403, 403, 403]),
    ],
    [
      'PUT /v1/recipients/{id}',
      (who) => api().put('/v1/recipients/r-2').set(as(who)).send({ email: 'r2@example.com' }),
      closed([201, 200, 403, 403, 403, 403]),
    ],
    ['GET /v1/templates', (who) => api().get('/v1/templates').set(as(who)), closed([200, 200, 403, 403, 403, 403])],
    [
      'GET /v1/categories/{category}/retention',
      (who) => api().get('/v1/categories/PROFILE_COMPLETION_REQUEST/retention').set(as(who)),
      closed([200, 200, 403, 403, 403, 403]),
    ],
    [
      'PUT /v1/categories/{category}/retention',
      (who) => api().put('/v1/categories/PROFILE_COMPLETION_REQUEST/retention').set(as(who)).send({ days: 365 }),
      closed([200, 200, 403, 403, 403, 403]),
    ],
    ['GET /metrics', (who) => api().get('/metrics').set(as(who)), closed([200, 403, 403, 403, 403, 403])],
    [
      'POST /v1/contacts (a new thread; open to anyone)',
      (who) =>
        api()
          .post('/v1/contacts')
          .set(as(who))
          .send({ name: 'V', mail: 'v@example.com', object: 'Question', message: 'Hello' }),
      expected(401, 201, [201, 201, 201, 201, 201, 201]),
    ],
    [
      'GET /v1/contacts/{id} (opened by customer A)',
      (who) => api().get(`/v1/contacts/${contactThreadId}`).set(as(who)),
      closed([200, 200, 200, 404, 404, 404]),
    ],
    [
      'GET /v1/contacts/{id}/messages',
      (who) => api().get(`/v1/contacts/${contactThreadId}/messages`).set(as(who)),
      closed([200, 200, 200, 404, 404, 404]),
    ],
    [
      'GET /v1/conversations',
      (who) => api().get('/v1/conversations').set(as(who)),
      closed([200, 200, 200, 200, 200, 200]),
    ],
    [
      'GET /v1/conversations/{C}',
      (who) => api().get(`/v1/conversations/${c.id}`).set(as(who)),
      closed([200, 200, 200, 404, 200, 404]),
    ],
    [
      'PUT /v1/conversations/{C}',
      (who) => api().put(`/v1/conversations/${c.id}`).set(as(who)).send(sameC()),
      closed([200, 200, 403, 404, 200, 404]),
    ],
    [
      'PATCH /v1/conversations/{C}/assigned-agent',
      (who) =>
        api().patch(`/v1/conversations/${c.id}/assigned-agent`).set(as(who)).send({ assignedAgentId: 'agent-1' }),
      closed([200, 200, 403, 404, 200, 404]),
    ],
    [
      'GET /v1/conversations/{C}/messages',
      (who) => api().get(`/v1/conversations/${c.id}/messages`).set(as(who)),
      closed([200, 200, 200, 404, 200, 404]),
    ],
    [
      // The admin is no participant of C: only participants write (403).
      'POST /v1/conversations/{C}/messages',
      (who) =>
        api()
          .post(`/v1/conversations/${c.id}/messages`)
          .set(as(who))
          .send({ transmitterId: transmitter(who), content: 'Hi' }),
      closed([201, 403, 201, 404, 201, 404]),
    ],
    [
      'GET /v1/conversations/{C}/messages/{id}',
      async (who) =>
        api()
          .get(`/v1/conversations/${c.id}/messages/${await newMessageOfC()}`)
          .set(as(who)),
      closed([200, 200, 200, 404, 200, 404]),
    ],
    [
      'PATCH /v1/conversations/{C}/messages/{id}',
      async (who) =>
        api()
          .patch(`/v1/conversations/${c.id}/messages/${await newMessageOfC()}`)
          .set(as(who))
          .send({ status: 'DELIVERED' }),
      closed([200, 200, 200, 404, 200, 404]),
    ],
  ];

  it.each(table)('%s answers each caller as its access rules say', async (_name, call, statuses) => {
    const actual: Partial<Record<CallerName, number>> = {};
    for (const caller of CALLERS) actual[caller] = (await call(caller)).status;
    expect(actual).toEqual(statuses);
  });

  describe('answers', () => {
    it('401 in the error body with a Bearer challenge, saying what is wrong with the token', async () => {
      const missing = await api().get('/v1/mails').expect(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="communication"');
      expect(missing.body).toMatchObject({ name: 'UNAUTHORIZED', debug_id: missing.headers['x-correlation-id'] });
      const expired = await api().get('/v1/mails').set(as('expired token')).expect(401);
      expect(expired.headers['www-authenticate']).toBe('Bearer realm="communication", error="invalid_token"');
      expect(expired.body).toMatchObject({ name: 'UNAUTHORIZED', message: 'The bearer token has expired.' });
      const audience = await api().get('/v1/mails').set(as('wrong audience')).expect(401);
      expect(audience.body.details).toEqual([
        { field: 'Authorization', location: 'header', issue: 'claim aud check_failed' },
      ]);
      await api()
        .get('/v1/mails')
        .set({ authorization: `Basic ${Buffer.from(`x:${SERVICE_KEY}`).toString('base64')}` })
        .expect(401);
    });

    it('403 FORBIDDEN to a caller whose role the route does not admit', async () => {
      const res = await api().get('/v1/mails').set(as('customer A')).expect(403);
      expect(res.body).toMatchObject({
        name: 'FORBIDDEN',
        message: 'This operation is for service, admin; the caller has the roles customer.',
      });
    });

    it("404 RESOURCE_NOT_FOUND for another person's conversation, as for an id that does not exist", async () => {
      const other = await api().get(`/v1/conversations/${d.id}`).set(as('customer A')).expect(404);
      const unknown = await api()
        .get('/v1/conversations/6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87')
        .set(as('customer A'))
        .expect(404);
      expect(other.body.name).toBe('RESOURCE_NOT_FOUND');
      expect(other.body.message.replace(d.id, 'ID')).toBe(
        unknown.body.message.replace('6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87', 'ID'),
      );
    });

    it('health probes and the docs stay open, whatever Authorization says', async () => {
      await api().get('/health').expect(200);
      await api().get('/health').set(as('bad key')).expect(200);
      await api().get('/health/ready').set(as('alg none')).expect(200);
      await api().get('/docs-json').expect(200);
    });
  });

  describe('conversation scope', () => {
    const idsSeenBy = async (caller: CallerName, query: Record<string, string> = {}) =>
      (
        (
          await api()
            .get('/v1/conversations')
            .query({ sizePage: 100, ...query })
            .set(as(caller))
            .expect(200)
        ).body.content as Conversation[]
      )
        .map((x) => x.id)
        .sort();

    it('lists only what each caller may see', async () => {
      const all = [c.id, d.id, e.id].sort();
      expect(await idsSeenBy('service')).toEqual(all);
      expect(await idsSeenBy('admin')).toEqual(all);
      expect(await idsSeenBy('customer A')).toEqual([c.id, e.id].sort());
      expect(await idsSeenBy('customer B')).toEqual([d.id, e.id].sort());
      expect(await idsSeenBy('agent here')).toEqual([c.id, e.id].sort());
      expect(await idsSeenBy('agent elsewhere')).toEqual([d.id]);
    });

    it('narrows the filters of the query, never widens them', async () => {
      expect(await idsSeenBy('customer A', { customerId: 'customer-B' })).toEqual([e.id]);
      expect(await idsSeenBy('agent elsewhere', { establishmentId: 'EST-1' })).toEqual([]);
      const page = await api()
        .get('/v1/conversations')
        .query({ establishmentId: 'EST-1' })
        .set(as('customer B'))
        .expect(200);
      expect(page.body.totalElements).toBe(1);
    });

    it('links only to the actions the caller may take', async () => {
      const rels = async (caller: CallerName) =>
        ((await api().get(`/v1/conversations/${c.id}`).set(as(caller)).expect(200)).body as Conversation).links.map(
          (l) => l.rel,
        );
      expect(await rels('customer A')).toEqual(['self', 'messages', 'post-message']);
      expect(await rels('agent here')).toEqual(['self', 'update', 'assign-agent', 'messages', 'post-message']);
    });
  });

  describe('people write in their own name', () => {
    it('a transmitterId other than the token sub is 403, in a conversation and in a contact message', async () => {
      const message = await api()
        .post(`/v1/conversations/${c.id}/messages`)
        .set(as('customer A'))
        .send({ transmitterId: 'agent-1', content: 'Not me' })
        .expect(403);
      expect(message.body).toMatchObject({
        name: 'FORBIDDEN',
        message: 'transmitterId must be your own id (the sub of your token).',
      });
      await api()
        .post('/v1/contacts')
        .set(as('customer B'))
        .send({ name: 'B', mail: 'b@example.com', object: 'x', message: 'y', transmitterId: 'customer-A' })
        .expect(403);
      const own = await api()
        .post('/v1/contacts')
        .set(as('customer B'))
        .send({ name: 'B', mail: 'b@example.com', object: 'x', message: 'y', transmitterId: 'customer-B' })
        .expect(201);
      expect(own.body.transmitterId).toBe('customer-B');
    });

    it('a customer opens conversations as their own customer, an agent for their establishments', async () => {
      const body = { tripPublicationId: 'TRIP-2', tripReference: 'VOY-2', establishmentId: 'EST-1' };
      const mine = await api()
        .post('/v1/conversations')
        .set(as('customer A'))
        .send({ ...body, customerId: 'customer-A', lastMessage: { content: 'Hello' } })
        .expect(201);
      expect(mine.body.lastMessage).toMatchObject({ transmitterId: 'customer-A', transmitterType: 'CUSTOMER' });
      await api()
        .post('/v1/conversations')
        .set(as('customer A'))
        .send({ ...body, customerId: 'customer-B' })
        .expect(403);
      await api()
        .post('/v1/conversations')
        .set(as('agent here'))
        .send({ ...body, customerId: 'customer-B', assignedAgentId: 'agent-1' })
        .expect(201);
      await api()
        .post('/v1/conversations')
        .set(as('agent here'))
        .send({ ...body, establishmentId: 'EST-2', customerId: 'customer-B' })
        .expect(403);
    });

    it('an agent cannot move a conversation to an establishment that is not theirs', async () => {
      await api()
        .put(`/v1/conversations/${c.id}`)
        .set(as('agent here'))
        .send({ ...sameC(), establishmentId: 'EST-2' })
        .expect(403);
    });
  });

  describe('a person acts as themselves only (issue 17)', () => {
    const messagesOf = async (id: string): Promise<number> =>
      (await api().get(`/v1/conversations/${id}/messages`).set(as('service')).expect(200)).body.totalElements as number;
    const postIn = (id: string, who: CallerName, body: Record<string, unknown>) =>
      api()
        .post(`/v1/conversations/${id}/messages`)
        .set(as(who))
        .send({ transmitterId: transmitter(who), content: 'Hi', ...body });

    it("lists unread counts for the caller's own participant id only (403 for another's); services and admins for anyone", async () => {
      for (const [who, participantId] of [
        ['customer A', 'customer-B'],
        ['agent here', 'customer-A'],
        ['customer B', 'agent-1'],
      ] as const) {
        const res = await api().get('/v1/conversations').query({ participantId }).set(as(who)).expect(403);
        expect(res.body).toMatchObject({ name: 'FORBIDDEN', debug_id: res.headers['x-correlation-id'] });
        expect(JSON.stringify(res.body)).not.toContain('unreadCount');
      }
      const own = await api()
        .get('/v1/conversations')
        .query({ participantId: 'customer-A', sizePage: 100 })
        .set(as('customer A'))
        .expect(200);
      const listed = own.body.content as Array<Conversation & { unreadCount?: unknown }>;
      expect(listed.map((x) => x.id)).toEqual(expect.arrayContaining([c.id, e.id]));
      expect(listed.every((x) => x.participants.includes('customer-A') && typeof x.unreadCount === 'number')).toBe(
        true,
      );
      for (const who of ['service', 'admin'] as const) {
        const any = await api()
          .get('/v1/conversations')
          .query({ participantId: 'customer-B', sizePage: 100 })
          .set(as(who))
          .expect(200);
        expect((any.body.content as Conversation[]).map((x) => x.id)).toEqual(expect.arrayContaining([d.id, e.id]));
      }
    });

    it("answers 403, not 404, for another person's unread counts, event stream and read marker", async () => {
      const unread = await api().get('/v1/participants/customer-B/unread').set(as('customer A')).expect(403);
      expect(unread.body).toMatchObject({ name: 'FORBIDDEN', debug_id: unread.headers['x-correlation-id'] });
      expect((await api().get('/v1/participants/customer-B/events').set(as('customer A')).expect(403)).body.name).toBe(
        'FORBIDDEN',
      );
      await api().get('/v1/participants/customer-A/unread').set(as('agent here')).expect(403);
      const message = await newMessageOfC();
      await api()
        .put(`/v1/conversations/${c.id}/read-marker`)
        .set(as('customer A'))
        .send({ participantId: 'agent-1', lastReadMessageId: message })
        .expect(403);
      await api().get('/v1/participants/customer-A/unread').set(as('customer A')).expect(200);
      await api().get('/v1/participants/customer-A/unread').set(as('admin')).expect(200);
    });

    it("gives a person's message the type of their role: another transmitterType is 403 and stores nothing", async () => {
      const before = await messagesOf(c.id);
      for (const transmitterType of ['AGENT', 'SYSTEM']) {
        const res = await postIn(c.id, 'customer A', { transmitterType }).expect(403);
        expect(res.body).toMatchObject({
          name: 'FORBIDDEN',
          message: expect.stringContaining('transmitterType must be CUSTOMER'),
        });
      }
      for (const transmitterType of ['CUSTOMER', 'SYSTEM'])
        await postIn(c.id, 'agent here', { transmitterType }).expect(403);
      expect(await messagesOf(c.id)).toBe(before);
      expect((await postIn(c.id, 'customer A', { transmitterType: 'CUSTOMER' }).expect(201)).body.transmitterType).toBe(
        'CUSTOMER',
      );
      const fromAgent = await postIn(c.id, 'agent here', {}).expect(201);
      const stored = await api()
        .get(`/v1/conversations/${c.id}/messages/${fromAgent.body.id}`)
        .set(as('service'))
        .expect(200);
      expect(stored.body).toMatchObject({ transmitterId: 'agent-1', transmitterType: 'AGENT' });
      // Customer A takes part in E, whose customer is B: still a customer.
      expect((await postIn(e.id, 'customer A', {}).expect(201)).body.transmitterType).toBe('CUSTOMER');
      await postIn(e.id, 'customer A', { transmitterType: 'AGENT' }).expect(403);
      // Only services post SYSTEM messages.
      expect((await postIn(c.id, 'service', { transmitterType: 'SYSTEM' }).expect(201)).body.transmitterType).toBe(
        'SYSTEM',
      );
    });

    it('writes as AGENT for an admin taking part, and checks the first message of a new conversation the same way', async () => {
      const body = {
        tripPublicationId: 'TRIP-3',
        tripReference: 'VOY-3',
        establishmentId: 'EST-1',
        customerId: 'customer-A',
      };
      const withAdmin = await api()
        .post('/v1/conversations')
        .set(as('service'))
        .send({ ...body, participants: ['admin-1'] })
        .expect(201);
      expect((await postIn(withAdmin.body.id, 'admin', {}).expect(201)).body.transmitterType).toBe('AGENT');
      await postIn(withAdmin.body.id, 'admin', { transmitterType: 'SYSTEM' }).expect(403);
      const count = async () =>
        (await api().get('/v1/conversations').query({ customerId: 'customer-A' }).set(as('service')).expect(200)).body
          .totalElements as number;
      const before = await count();
      await api()
        .post('/v1/conversations')
        .set(as('customer A'))
        .send({ ...body, lastMessage: { content: 'Hello', transmitterType: 'SYSTEM' } })
        .expect(403);
      expect(await count()).toBe(before);
    });

    it('writes as the sub of a person who sends no transmitterId; a service must name one (400, one detail)', async () => {
      const mine = await api()
        .post(`/v1/conversations/${c.id}/messages`)
        .set(as('customer A'))
        .send({ content: 'Sans transmitterId' })
        .expect(201);
      expect(mine.body).toMatchObject({
        transmitterId: 'customer-A',
        transmitterType: 'CUSTOMER',
        receiverId: 'agent-1',
      });
      const before = await messagesOf(c.id);
      const res = await api()
        .post(`/v1/conversations/${c.id}/messages`)
        .set(as('service'))
        .send({ content: 'Who?' })
        .expect(400);
      expect(res.body).toMatchObject({ name: 'VALIDATION_ERROR' });
      expect(res.body.details).toEqual([
        { field: 'transmitterId', location: 'body', issue: expect.stringContaining('required') },
      ]);
      expect(await messagesOf(c.id)).toBe(before);
    });
  });

  describe('keys and tokens', () => {
    it('picks up a rotated signing key from the JWKS, and drops the retired one', async () => {
      const key2 = await signingKey('k2', 'ES256');
      const token2 = bearer(await signToken(key2, PEOPLE['customer A']));
      await api().get(`/v1/conversations/${c.id}`).set(token2).expect(401);
      jwks.keys = [key2.jwk];
      await api().get(`/v1/conversations/${c.id}`).set(token2).expect(200);
      await api().get(`/v1/conversations/${c.id}`).set(as('customer A')).expect(401);
      jwks.keys = [key1.jwk, key2.jwk];
      await api().get(`/v1/conversations/${c.id}`).set(as('customer A')).expect(200);
    });

    it('answers 503 with Retry-After when a token names a key that the JWKS endpoint cannot give right now', async () => {
      const key3 = await signingKey('k3');
      jwks.status = 500;
      try {
        const res = await api()
          .get(`/v1/conversations/${c.id}`)
          .set(bearer(await signToken(key3, PEOPLE['customer A'])))
          .expect(503);
        expect(res.body.name).toBe('SERVICE_UNAVAILABLE');
        expect(res.headers['retry-after']).toBe('5');
        // Keys fetched before keep working meanwhile.
        await api().get(`/v1/conversations/${c.id}`).set(as('customer A')).expect(200);
      } finally {
        jwks.status = 200;
      }
    });

    it('never writes a key or a token in the logs', () => {
      const text = JSON.stringify(logs.lines);
      expect(logs.lines.length).toBeGreaterThan(0);
      for (const caller of CALLERS) {
        const token = headers[caller].authorization?.slice('Bearer '.length);
        if (token) expect(text).not.toContain(token);
      }
    });
  });

  describe('with JWT_PUBLIC_KEY (a PEM) instead of a JWKS', () => {
    let pemService: TestApp;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

    beforeAll(async () => {
      pemService = await startApp({
        databaseUrl: service.config.database.url,
        smtpUrl: inbox.smtpUrl,
        env: {
          AUTH_MODE: 'on',
          JWT_PUBLIC_KEY: pem,
          JWT_ISSUER: ISSUER,
          JWT_AUDIENCE: AUDIENCE,
          JWT_ALGORITHMS: 'ES256',
          RUN_MODE: 'api',
        },
      });
    });

    afterAll(async () => {
      await pemService?.close();
    });

    const claims = () =>
      new SignJWT({ roles: ['admin'] })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject('admin-1')
        .setExpirationTime('5m');

    it('accepts a token that key signed', async () => {
      const token = await claims().setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
      await request(pemService.url).get('/v1/mails').set(bearer(token)).expect(200);
    });

    it('refuses an HS256 token keyed with the public key, and an algorithm that is not pinned', async () => {
      const forged = await claims().setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(pem));
      await request(pemService.url).get('/v1/mails').set(bearer(forged)).expect(401);
      const es384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const unpinned = await claims().setProtectedHeader({ alg: 'ES384' }).sign(es384.privateKey);
      await request(pemService.url).get('/v1/mails').set(bearer(unpinned)).expect(401);
      await request(pemService.url).get('/v1/mails').set(bearer(SERVICE_KEY)).expect(401);
    });
  });
});
