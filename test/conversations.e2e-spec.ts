import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNKNOWN = '6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87';

interface Link {
  rel: string;
  href: string;
  method: string;
}
interface Message {
  id: string;
  conversationId: string;
  sendingDate: string;
  transmitterId: string;
  receiverId: string | null;
  transmitterType: string;
  content: string;
  contentType: string;
  status: string;
  receivedDate: string | null;
  correlationId: string;
  links: Link[];
}
interface Conversation {
  id: string;
  tripPublicationId: string;
  tripReference: string;
  establishmentId: string;
  customerId: string;
  assignedAgentId: string | null;
  participants: string[];
  lastMessage: Message | null;
  status: string;
  createdAt: string;
  updatedAt: string;
  links: Link[];
}

const rels = (links: Link[]) => links.map((l) => l.rel);

describe('Conversations and messages (real Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  const api = () => request(service.url);

  beforeAll(async () => {
    inbox = await startInbox();
    service = await startApp({ databaseUrl: await createTestDatabase(), smtpUrl: inbox.smtpUrl });
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  const base = {
    tripPublicationId: 'TRIP-2048',
    tripReference: 'VOY-2027-0514',
    establishmentId: 'EST-34',
    customerId: 'customer-1',
  };

  async function create(extra: Record<string, unknown> = {}): Promise<{ body: Conversation; etag: string }> {
    const res = await api()
      .post('/v1/conversations')
      .send({ ...base, ...extra })
      .expect(201);
    return { body: res.body as Conversation, etag: res.headers.etag as string };
  }

  async function get(id: string): Promise<{ body: Conversation; etag: string }> {
    const res = await api().get(`/v1/conversations/${id}`).expect(200);
    return { body: res.body as Conversation, etag: res.headers.etag as string };
  }

  const put = (id: string, body: Record<string, unknown>) => api().put(`/v1/conversations/${id}`).send(body);
  const post = (id: string, body: Record<string, unknown>) => api().post(`/v1/conversations/${id}/messages`).send(body);
  const assign = (id: string, assignedAgentId: unknown) =>
    api().patch(`/v1/conversations/${id}/assigned-agent`).send({ assignedAgentId });

  async function messagesOf(id: string): Promise<Message[]> {
    const res = await api().get(`/v1/conversations/${id}/messages`).query({ sizePage: 100 }).expect(200);
    return res.body.content as Message[];
  }

  describe('creating and reading', () => {
    it('creates an OPEN conversation: 201, Location, ETag, the customer as participant and every allowed link', async () => {
      const res = await api().post('/v1/conversations').send(base).expect(201);
      const body = res.body as Conversation;
      expect(body).toMatchObject({
        ...base,
        assignedAgentId: null,
        participants: ['customer-1'],
        lastMessage: null,
        status: 'OPEN',
      });
      expect(body.id).toMatch(UUID);
      expect(new Date(body.createdAt).toISOString()).toBe(body.createdAt);
      expect(body.updatedAt).toBe(body.createdAt);
      const self = `${service.url}/v1/conversations/${body.id}`;
      expect(res.headers.location).toBe(self);
      expect(res.headers.etag).toMatch(/^W\/"\d+"$/);
      expect(body.links.map(({ rel, href, method }) => ({ rel, href, method }))).toEqual([
        { rel: 'self', href: self, method: 'GET' },
        { rel: 'update', href: self, method: 'PUT' },
        { rel: 'assign-agent', href: `${self}/assigned-agent`, method: 'PATCH' },
        { rel: 'messages', href: `${self}/messages`, method: 'GET' },
        { rel: 'post-message', href: `${self}/messages`, method: 'POST' },
      ]);

      const read = await get(body.id);
      expect(read.body).toEqual(body);
      expect(read.etag).toBe(res.headers.etag);
    });

    it('keeps the customer and the assigned agent in the participants, merged with the given ones', async () => {
      const { body } = await create({ assignedAgentId: 'agent-1', participants: ['agent-2', 'customer-1', 'agent-2'] });
      expect(body.participants).toEqual(['customer-1', 'agent-1', 'agent-2']);
    });

    it('stores a lastMessage of the body as the first message, from the customer to the agent by default', async () => {
      const res = await api()
        .post('/v1/conversations')
        .set('X-Correlation-ID', 'conv-first-1')
        .send({ ...base, assignedAgentId: 'agent-1', lastMessage: { content: 'Is the departure confirmed?' } })
        .expect(201);
      const body = res.body as Conversation;
      expect(body.lastMessage).toMatchObject({
        conversationId: body.id,
        transmitterId: 'customer-1',
        receiverId: 'agent-1',
        transmitterType: 'CUSTOMER',
        content: 'Is the departure confirmed?',
        contentType: 'TEXT',
        status: 'SENT',
        receivedDate: null,
        correlationId: 'conv-first-1',
      });
      expect(body.lastMessage!.sendingDate).toBe(body.updatedAt);
      expect(rels(body.lastMessage!.links)).toEqual(['self', 'conversation', 'update']);
      expect((await messagesOf(body.id)).map((m) => m.id)).toEqual([body.lastMessage!.id]);
    });

    it('takes a first message from the agent, to the customer', async () => {
      const { body } = await create({
        assignedAgentId: 'agent-1',
        lastMessage: { transmitterId: 'agent-1', content: 'Welcome!' },
      });
      expect(body.lastMessage).toMatchObject({
        transmitterId: 'agent-1',
        receiverId: 'customer-1',
        transmitterType: 'AGENT',
      });
    });

    it('refuses a first message from someone who is not a participant with 403, and creates nothing', async () => {
      const res = await api()
        .post('/v1/conversations')
        .send({ ...base, customerId: 'customer-403', lastMessage: { transmitterId: 'stranger', content: 'Hi' } })
        .expect(403);
      expect(res.body.name).toBe('FORBIDDEN');
      const list = await api().get('/v1/conversations').query({ customerId: 'customer-403' }).expect(200);
      expect(list.body.totalElements).toBe(0);
    });

    it('ignores the read-only fields the seed shows in the request', async () => {
      const { body } = await create({
        id: UNKNOWN,
        links: [],
        createdAt: '2019-08-24T14:15:22Z',
        updatedAt: '2019-08-24T14:15:22Z',
      });
      expect(body.id).not.toBe(UNKNOWN);
      expect(body.createdAt).not.toBe('2019-08-24T14:15:22.000Z');
    });

    it.each([
      ['a missing tripPublicationId', { tripPublicationId: undefined }, 'tripPublicationId'],
      ['a missing tripReference', { tripReference: undefined }, 'tripReference'],
      ['a missing establishmentId', { establishmentId: undefined }, 'establishmentId'],
      ['a missing customerId', { customerId: undefined }, 'customerId'],
      ['an empty customerId', { customerId: '' }, 'customerId'],
      ['an empty assignedAgentId', { assignedAgentId: '' }, 'assignedAgentId'],
      ['participants that are not an array', { participants: 'agent-1' }, 'participants'],
      ['an empty participant', { participants: [''] }, 'participants'],
      ['an unknown status', { status: 'DELETED' }, 'status'],
      ['an empty first message', { lastMessage: { content: '' } }, 'lastMessage.content'],
      ['an unknown field in the first message', { lastMessage: { content: 'x', mood: 'happy' } }, 'lastMessage.mood'],
      ['a first message that is not an object', { lastMessage: 'hello' }, 'lastMessage'],
      ['an unknown field', { priority: 'high' }, 'priority'],
    ])('refuses %s with a VALIDATION_ERROR naming the field', async (_case, change, field) => {
      const res = await api()
        .post('/v1/conversations')
        .send({ ...base, ...change })
        .expect(400);
      expect(res.body.name).toBe('VALIDATION_ERROR');
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, location: 'body' })]));
    });
  });

  describe('listing', () => {
    const establishmentId = 'EST-LIST';
    const ids: Record<'a' | 'b' | 'c' | 'd', string> = { a: '', b: '', c: '', d: '' };

    beforeAll(async () => {
      ids.a = (await create({ establishmentId, customerId: 'cust-a', assignedAgentId: 'agent-x' })).body.id;
      ids.b = (await create({ establishmentId, customerId: 'cust-b', assignedAgentId: 'agent-y' })).body.id;
      ids.c = (await create({ establishmentId, customerId: 'cust-a' })).body.id;
      ids.d = (await create({ establishmentId, customerId: 'cust-c', assignedAgentId: 'agent-x' })).body.id;
      // Activity after creation: a message in A, then C is closed. Most recent first: C, A, D, B.
      await post(ids.a, { transmitterId: 'cust-a', content: 'Any news?' }).expect(201);
      await put(ids.c, { ...base, establishmentId, customerId: 'cust-a', status: 'CLOSED' }).expect(200);
    });

    const list = (query: Record<string, string | number>) =>
      api()
        .get('/v1/conversations')
        .query({ establishmentId, ...query });
    const order = (body: { content: Conversation[] }) =>
      body.content.map((c) => Object.entries(ids).find(([, id]) => id === c.id)?.[0]);

    it('lists the most recent activity first', async () => {
      const res = await list({}).expect(200);
      expect(res.body).toMatchObject({ totalElements: 4, totalPages: 1, currentPage: 1 });
      expect(order(res.body)).toEqual(['c', 'a', 'd', 'b']);
      const a = (res.body.content as Conversation[]).find((c) => c.id === ids.a)!;
      expect(a.lastMessage).toMatchObject({ content: 'Any news?' });
      expect(rels(a.links)).toContain('post-message');
    });

    it.each([
      [{ customerId: 'cust-a' }, ['c', 'a']],
      [{ assignedAgentId: 'agent-x' }, ['a', 'd']],
      [{ status: 'CLOSED' }, ['c']],
      [{ status: 'OPEN', assignedAgentId: 'agent-y' }, ['b']],
      [{ customerId: 'nobody' }, []],
    ])('filters by %j', async (query, expected) => {
      const res = await list(query).expect(200);
      expect(order(res.body)).toEqual(expected);
      expect(res.body.totalElements).toBe(expected.length);
    });

    it('keeps the filters in the page links', async () => {
      const res = await list({ customerId: 'cust-a', sizePage: 3 }).expect(200);
      const self = new URL(res.body.links.find((l: Link) => l.rel === 'self').href);
      expect(Object.fromEntries(self.searchParams)).toEqual({
        establishmentId,
        customerId: 'cust-a',
        sizePage: '3',
        currentPage: '1',
      });
    });

    it('cuts pages of sizePage with the rest on the last one, and answers past the end with no content', async () => {
      const first = await list({ sizePage: 3 }).expect(200);
      expect(first.body).toMatchObject({ totalElements: 4, totalPages: 2, currentPage: 1 });
      expect(order(first.body)).toEqual(['c', 'a', 'd']);
      expect(rels(first.body.links).sort()).toEqual(['first', 'last', 'next', 'self']);
      const second = await list({ sizePage: 3, currentPage: 2 }).expect(200);
      expect(order(second.body)).toEqual(['b']);
      expect(rels(second.body.links).sort()).toEqual(['first', 'last', 'prev', 'self']);
      const past = await list({ sizePage: 3, currentPage: 5 }).expect(200);
      expect(past.body).toMatchObject({ totalElements: 4, totalPages: 2, currentPage: 5, content: [] });
    });

    it('gives one full page for an exact multiple of sizePage', async () => {
      const res = await list({ sizePage: 4 }).expect(200);
      expect(res.body).toMatchObject({ totalElements: 4, totalPages: 1 });
      expect(res.body.content).toHaveLength(4);
      expect(rels(res.body.links).sort()).toEqual(['first', 'last', 'self']);
    });

    it.each([
      ['sizePage', { sizePage: 2 }],
      ['sizePage', { sizePage: 101 }],
      ['currentPage', { currentPage: 0 }],
      ['status', { status: 'DELETED' }],
    ])('refuses a wrong %s (%j) with a VALIDATION_ERROR in the query', async (field, query) => {
      const res = await list(query).expect(400);
      expect(res.body.name).toBe('VALIDATION_ERROR');
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, location: 'query' })]));
    });
  });

  describe('PUT, ETag and If-Match', () => {
    it('replaces with a matching If-Match, and gives a new ETag', async () => {
      const { body, etag } = await create({ assignedAgentId: 'agent-1' });
      const res = await put(body.id, { ...base, tripReference: 'VOY-NEW', assignedAgentId: 'agent-1' })
        .set('If-Match', etag)
        .expect(200);
      expect(res.body).toMatchObject({ tripReference: 'VOY-NEW', status: 'OPEN' });
      expect(res.headers.etag).not.toBe(etag);
      expect(new Date(res.body.updatedAt).getTime()).toBeGreaterThan(new Date(body.updatedAt).getTime());
      expect((await get(body.id)).etag).toBe(res.headers.etag);
    });

    it('refuses a stale If-Match with 412 PRECONDITION_FAILED and changes nothing', async () => {
      const { body, etag } = await create();
      const changed = await put(body.id, { ...base, tripReference: 'first' })
        .set('If-Match', etag)
        .expect(200);
      const res = await put(body.id, { ...base, tripReference: 'second' })
        .set('If-Match', etag)
        .expect(412);
      expect(res.body.name).toBe('PRECONDITION_FAILED');
      const now = await get(body.id);
      expect(now.body.tripReference).toBe('first');
      expect(now.etag).toBe(changed.headers.etag);
      await put(body.id, { ...base, tripReference: 'second' })
        .set('If-Match', '"not-a-version"')
        .expect(412);
    });

    it('accepts a PUT without If-Match, with If-Match: *, and the tag without its W/ prefix', async () => {
      const { body, etag } = await create();
      const noHeader = await put(body.id, { ...base, tripReference: 'one' }).expect(200);
      const star = await put(body.id, { ...base, tripReference: 'two' })
        .set('If-Match', '*')
        .expect(200);
      await put(body.id, { ...base, tripReference: 'three' })
        .set('If-Match', star.headers.etag.replace(/^W\//, ''))
        .expect(200);
      expect(new Set([etag, noHeader.headers.etag, star.headers.etag]).size).toBe(3);
    });

    it('replaces every writable field: an absent agent and participants are reset, an absent status is kept', async () => {
      const { body } = await create({ assignedAgentId: 'agent-1', participants: ['agent-2'] });
      await put(body.id, { ...base, assignedAgentId: 'agent-1', status: 'CLOSED' }).expect(200);
      const res = await put(body.id, { ...base, customerId: 'customer-2', establishmentId: 'EST-35' }).expect(200);
      expect(res.body).toMatchObject({
        customerId: 'customer-2',
        establishmentId: 'EST-35',
        assignedAgentId: null,
        participants: ['customer-2'],
        status: 'CLOSED',
      });
    });

    it('accepts the representation read by GET back as the body (read-only fields ignored), and a PUT that changes nothing keeps the ETag', async () => {
      const { body } = await create({ assignedAgentId: 'agent-1', lastMessage: { content: 'Hello' } });
      const before = await get(body.id);
      const res = await put(body.id, { ...before.body, lastMessage: null, id: UNKNOWN })
        .set('If-Match', before.etag)
        .expect(200);
      expect(res.body).toEqual(before.body);
      expect(res.headers.etag).toBe(before.etag);
    });

    it('refuses a PUT without the required fields', async () => {
      const { body } = await create();
      const res = await put(body.id, { tripReference: 'x' }).expect(400);
      expect([...new Set((res.body.details as Array<{ field: string }>).map((d) => d.field))].sort()).toEqual([
        'customerId',
        'establishmentId',
        'tripPublicationId',
      ]);
    });
  });

  describe('status moves', () => {
    it.each([
      ['OPEN', 'CLOSED'],
      ['CLOSED', 'OPEN'],
      ['OPEN', 'ARCHIVED'],
      ['CLOSED', 'ARCHIVED'],
    ])('moves %s → %s', async (from, to) => {
      const { body } = await create({ status: from });
      expect(body.status).toBe(from);
      const res = await put(body.id, { ...base, status: to }).expect(200);
      expect(res.body.status).toBe(to);
    });

    it('keeps an archived conversation as it is: no update, assignment nor message (409), and only the links still allowed', async () => {
      const { body } = await create({ assignedAgentId: 'agent-1' });
      const archived = await put(body.id, { ...base, assignedAgentId: 'agent-1', status: 'ARCHIVED' }).expect(200);
      expect(rels(archived.body.links)).toEqual(['self', 'messages']);

      for (const status of ['OPEN', 'CLOSED']) {
        const res = await put(body.id, { ...base, assignedAgentId: 'agent-1', status }).expect(409);
        expect(res.body.name).toBe('CONFLICT');
      }
      await put(body.id, { ...base, assignedAgentId: 'agent-1', status: 'ARCHIVED', tripReference: 'changed' }).expect(
        409,
      );
      expect((await assign(body.id, 'agent-2').expect(409)).body.name).toBe('CONFLICT');
      expect((await post(body.id, { transmitterId: 'customer-1', content: 'Hello?' }).expect(409)).body.name).toBe(
        'CONFLICT',
      );

      const now = await get(body.id);
      expect(now.body).toEqual(archived.body);
      expect(now.etag).toBe(archived.headers.etag);
      expect(await messagesOf(body.id)).toEqual([]);
      // Sending the same state again changes nothing, so a retried PUT stays harmless.
      await put(body.id, { ...base, assignedAgentId: 'agent-1', status: 'ARCHIVED' }).expect(200);
    });

    it('reopens a CLOSED conversation when a message is posted', async () => {
      const { body } = await create({ status: 'CLOSED' });
      await post(body.id, { transmitterId: 'customer-1', content: 'One more question' }).expect(201);
      expect((await get(body.id)).body.status).toBe('OPEN');
    });
  });

  describe('assigning an agent', () => {
    it('assigns the agent, who joins the participants; an earlier agent stays a participant', async () => {
      const { body, etag } = await create();
      const first = await assign(body.id, 'agent-1').expect(200);
      expect(first.body).toMatchObject({ assignedAgentId: 'agent-1', participants: ['customer-1', 'agent-1'] });
      expect(first.headers.etag).not.toBe(etag);
      const second = await assign(body.id, 'agent-2').expect(200);
      expect(second.body).toMatchObject({
        assignedAgentId: 'agent-2',
        participants: ['customer-1', 'agent-1', 'agent-2'],
      });
      const message = await post(body.id, { transmitterId: 'customer-1', content: 'Hello' }).expect(201);
      expect(message.body.receiverId).toBe('agent-2');
    });

    it.each([
      ['a missing agent', {}],
      ['an empty agent', { assignedAgentId: '' }],
      ['a null agent', { assignedAgentId: null }],
      ['an agent that is not a string', { assignedAgentId: 7 }],
    ])('refuses %s with a VALIDATION_ERROR', async (_case, payload) => {
      const { body } = await create();
      const res = await api().patch(`/v1/conversations/${body.id}/assigned-agent`).send(payload).expect(400);
      expect(res.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'assignedAgentId', location: 'body' })]),
      );
    });
  });

  describe('messages', () => {
    let conversation: Conversation;

    beforeEach(async () => {
      conversation = (await create({ assignedAgentId: 'agent-1', participants: ['agent-2'] })).body;
    });

    it('posts a message: 201, Location, the other side as receiver, and the conversation follows', async () => {
      const before = await get(conversation.id);
      const res = await post(conversation.id, { transmitterId: 'customer-1', content: 'Is breakfast included?' })
        .set('X-Correlation-ID', 'msg-1')
        .expect(201);
      const message = res.body as Message;
      expect(message).toMatchObject({
        conversationId: conversation.id,
        transmitterId: 'customer-1',
        receiverId: 'agent-1',
        transmitterType: 'CUSTOMER',
        content: 'Is breakfast included?',
        contentType: 'TEXT',
        status: 'SENT',
        receivedDate: null,
        correlationId: 'msg-1',
      });
      const self = `${service.url}/v1/conversations/${conversation.id}/messages/${message.id}`;
      expect(res.headers.location).toBe(self);
      expect(message.links.map(({ rel, href, method }) => ({ rel, href, method }))).toEqual([
        { rel: 'self', href: self, method: 'GET' },
        { rel: 'conversation', href: `${service.url}/v1/conversations/${conversation.id}`, method: 'GET' },
        { rel: 'update', href: self, method: 'PATCH' },
      ]);
      expect((await api().get(`/v1/conversations/${conversation.id}/messages/${message.id}`).expect(200)).body).toEqual(
        message,
      );

      const after = await get(conversation.id);
      expect(after.body.lastMessage).toEqual(message);
      expect(after.body.updatedAt).toBe(message.sendingDate);
      expect(after.etag).not.toBe(before.etag);
    });

    it('sends an agent’s message to the customer, and takes an explicit receiver among the participants', async () => {
      const fromAgent = await post(conversation.id, { transmitterId: 'agent-2', content: 'Yes it is.' }).expect(201);
      expect(fromAgent.body).toMatchObject({ receiverId: 'customer-1', transmitterType: 'AGENT' });
      const toColleague = await post(conversation.id, {
        transmitterId: 'agent-1',
        receiverId: 'agent-2',
        content: 'Thanks',
      }).expect(201);
      expect(toColleague.body.receiverId).toBe('agent-2');
      const system = await post(conversation.id, {
        transmitterId: 'agent-1',
        transmitterType: 'SYSTEM',
        content: 'Booking confirmed',
      }).expect(201);
      expect(system.body.transmitterType).toBe('SYSTEM');
    });

    it('has no receiver when the customer writes before any agent is assigned', async () => {
      const { body } = await create();
      const res = await post(body.id, { transmitterId: 'customer-1', content: 'Hello?' }).expect(201);
      expect(res.body.receiverId).toBeNull();
    });

    it('refuses a transmitter who is not a participant with 403 FORBIDDEN', async () => {
      const res = await post(conversation.id, { transmitterId: 'stranger', content: 'Hi' }).expect(403);
      expect(res.body).toMatchObject({ name: 'FORBIDDEN', debug_id: res.headers['x-correlation-id'] });
      expect(await messagesOf(conversation.id)).toEqual([]);
    });

    it('accepts a URL for IMAGE_URL and FILE_URL, and 10,000 characters of text', async () => {
      await post(conversation.id, {
        transmitterId: 'customer-1',
        contentType: 'IMAGE_URL',
        content: 'https://cdn.voyages.test/p.jpg',
      }).expect(201);
      await post(conversation.id, {
        transmitterId: 'customer-1',
        contentType: 'FILE_URL',
        content: 'https://cdn.voyages.test/ticket.pdf',
      }).expect(201);
      await post(conversation.id, { transmitterId: 'customer-1', contentType: 'HTML', content: '<p>Hello</p>' }).expect(
        201,
      );
      await post(conversation.id, { transmitterId: 'customer-1', content: 'x'.repeat(10_000) }).expect(201);
    });

    it.each([
      ['a missing transmitterId', { transmitterId: undefined }, 'transmitterId'],
      ['an empty content', { content: '' }, 'content'],
      ['a content over 10,000 characters', { content: 'x'.repeat(10_001) }, 'content'],
      ['an unknown contentType', { contentType: 'VIDEO' }, 'contentType'],
      ['an unknown transmitterType', { transmitterType: 'BOT' }, 'transmitterType'],
      ['an IMAGE_URL that is not a URL', { contentType: 'IMAGE_URL', content: 'javascript:alert(1)' }, 'content'],
      ['a customer type for an agent', { transmitterId: 'agent-1', transmitterType: 'CUSTOMER' }, 'transmitterType'],
      ['an agent type for the customer', { transmitterType: 'AGENT' }, 'transmitterType'],
      ['a receiver who is not a participant', { receiverId: 'stranger' }, 'receiverId'],
      ['an unknown field', { mood: 'happy' }, 'mood'],
    ])('refuses %s with a VALIDATION_ERROR naming the field', async (_case, change, field) => {
      const res = await post(conversation.id, { transmitterId: 'customer-1', content: 'Hello', ...change }).expect(400);
      expect(res.body.name).toBe('VALIDATION_ERROR');
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, location: 'body' })]));
      expect(await messagesOf(conversation.id)).toEqual([]);
    });

    it('names a missing transmitterId once when no token says who writes (AUTH_MODE=off), and a missing field once everywhere', async () => {
      const res = await post(conversation.id, { content: 'Hello' }).expect(400);
      expect(res.body.details).toEqual([{ field: 'transmitterId', location: 'body', issue: 'is required' }]);
      expect(await messagesOf(conversation.id)).toEqual([]);
      const empty = await api().post('/v1/conversations').send({}).expect(400);
      expect(empty.body.details).toEqual(
        ['tripPublicationId', 'tripReference', 'establishmentId', 'customerId'].map((field) => ({
          field,
          location: 'body',
          issue: 'is required',
        })),
      );
    });

    it('ignores the read-only fields of a message', async () => {
      const res = await post(conversation.id, {
        transmitterId: 'customer-1',
        content: 'Hello',
        id: UNKNOWN,
        conversationId: 'other',
        sendingDate: '2019-08-24T14:15:22Z',
        status: 'READ',
        receivedDate: '2019-08-24T14:15:22Z',
        links: [],
      }).expect(201);
      expect(res.body).toMatchObject({ conversationId: conversation.id, status: 'SENT', receivedDate: null });
      expect(res.body.id).not.toBe(UNKNOWN);
    });

    it('moves a status only forward, sets receivedDate once, and drops the update link when READ', async () => {
      const { body: message } = await post(conversation.id, { transmitterId: 'customer-1', content: 'Hello' }).expect(
        201,
      );
      const path = `/v1/conversations/${conversation.id}/messages/${message.id}`;
      const before = await get(conversation.id);

      const delivered = await api().patch(path).send({ status: 'DELIVERED' }).expect(200);
      expect(delivered.body.status).toBe('DELIVERED');
      expect(new Date(delivered.body.receivedDate).getTime()).toBeGreaterThanOrEqual(
        new Date(message.sendingDate).getTime(),
      );
      expect(rels(delivered.body.links)).toContain('update');
      // The conversation shows this message: its ETag follows.
      const after = await get(conversation.id);
      expect(after.body.lastMessage!.status).toBe('DELIVERED');
      expect(after.etag).not.toBe(before.etag);

      const conflict = await api().patch(path).send({ status: 'SENT' }).expect(409);
      expect(conflict.body.name).toBe('CONFLICT');
      await api().patch(path).send({ status: 'DELIVERED' }).expect(409);

      const read = await api().patch(path).send({ status: 'READ' }).expect(200);
      expect(read.body.status).toBe('READ');
      expect(read.body.receivedDate).toBe(delivered.body.receivedDate);
      expect(rels(read.body.links)).toEqual(['self', 'conversation']);
      await api().patch(path).send({ status: 'READ' }).expect(409);
      await api().patch(path).send({ status: 'DELIVERED' }).expect(409);
    });

    it('moves SENT straight to READ, with a receivedDate', async () => {
      const { body: message } = await post(conversation.id, { transmitterId: 'agent-1', content: 'Hello' }).expect(201);
      const read = await api()
        .patch(`/v1/conversations/${conversation.id}/messages/${message.id}`)
        .send({ status: 'READ' })
        .expect(200);
      expect(read.body.receivedDate).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/));
      expect(Date.parse(read.body.receivedDate)).toBeGreaterThanOrEqual(Date.parse(message.sendingDate));
    });

    it.each([
      ['an unknown status', { status: 'LOST' }, 'status'],
      ['no status', {}, 'status'],
      ['another field', { status: 'READ', content: 'changed' }, 'content'],
    ])('refuses %s on a status change with a VALIDATION_ERROR', async (_case, payload, field) => {
      const { body: message } = await post(conversation.id, { transmitterId: 'customer-1', content: 'Hello' }).expect(
        201,
      );
      const res = await api()
        .patch(`/v1/conversations/${conversation.id}/messages/${message.id}`)
        .send(payload)
        .expect(400);
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, location: 'body' })]));
    });

    it('does not find a message through another conversation', async () => {
      const { body: message } = await post(conversation.id, { transmitterId: 'customer-1', content: 'Hello' }).expect(
        201,
      );
      const other = (await create()).body;
      await api().get(`/v1/conversations/${other.id}/messages/${message.id}`).expect(404);
      await api().patch(`/v1/conversations/${other.id}/messages/${message.id}`).send({ status: 'READ' }).expect(404);
      expect(
        (await api().get(`/v1/conversations/${conversation.id}/messages/${message.id}`).expect(200)).body.status,
      ).toBe('SENT');
    });
  });

  describe('pages of messages', () => {
    let id: string;
    let sent: string[];

    beforeAll(async () => {
      id = (await create({ assignedAgentId: 'agent-1' })).body.id;
      sent = [];
      for (let i = 1; i <= 5; i++) {
        const res = await post(id, { transmitterId: i % 2 ? 'customer-1' : 'agent-1', content: `message ${i}` }).expect(
          201,
        );
        sent.push(res.body.id);
      }
    });

    const page = (query: Record<string, string | number>) => api().get(`/v1/conversations/${id}/messages`).query(query);
    const idsOf = (body: { content: Message[] }) => body.content.map((m) => m.id);

    it('lists oldest first, 10 per page by default', async () => {
      const res = await page({}).expect(200);
      expect(res.body).toMatchObject({ totalElements: 5, totalPages: 1, currentPage: 1 });
      expect(idsOf(res.body)).toEqual(sent);
    });

    it('reads currentPage=0 as page 1', async () => {
      const zero = await page({ currentPage: 0, sizePage: 2 }).expect(200);
      const one = await page({ currentPage: 1, sizePage: 2 }).expect(200);
      expect(zero.body).toEqual(one.body);
      expect(zero.body.currentPage).toBe(1);
    });

    it('cuts pages of sizePage (1 allowed) with the rest on the last one, and answers past the end with no content', async () => {
      const pages = await Promise.all([1, 2, 3].map((currentPage) => page({ currentPage, sizePage: 2 }).expect(200)));
      expect(pages.map((p) => idsOf(p.body))).toEqual([sent.slice(0, 2), sent.slice(2, 4), sent.slice(4)]);
      expect(pages.every((p) => p.body.totalPages === 3 && p.body.totalElements === 5)).toBe(true);
      expect(rels(pages[2].body.links).sort()).toEqual(['first', 'last', 'prev', 'self']);
      const single = await page({ sizePage: 1, currentPage: 5 }).expect(200);
      expect(idsOf(single.body)).toEqual([sent[4]]);
      expect(single.body.totalPages).toBe(5);
      const exact = await page({ sizePage: 5 }).expect(200);
      expect(exact.body).toMatchObject({ totalPages: 1 });
      expect(rels(exact.body.links).sort()).toEqual(['first', 'last', 'self']);
      const past = await page({ sizePage: 2, currentPage: 4 }).expect(200);
      expect(past.body).toMatchObject({ totalElements: 5, totalPages: 3, currentPage: 4, content: [] });
    });

    it.each([
      ['sizePage', { sizePage: 0 }],
      ['sizePage', { sizePage: 101 }],
      ['currentPage', { currentPage: -1 }],
      ['currentPage', { currentPage: 'first' }],
    ])('refuses a wrong %s (%j) with a VALIDATION_ERROR in the query', async (field, query) => {
      const res = await page(query).expect(400);
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, location: 'query' })]));
    });
  });

  describe('concurrency', () => {
    it('keeps both of two messages posted at the same instant, and the newer one as lastMessage', async () => {
      const { body } = await create({ assignedAgentId: 'agent-1' });
      const [a, b] = await Promise.all([
        post(body.id, { transmitterId: 'customer-1', content: 'from the customer' }),
        post(body.id, { transmitterId: 'agent-1', content: 'from the agent' }),
      ]);
      expect([a.status, b.status]).toEqual([201, 201]);
      const messages = await messagesOf(body.id);
      expect(messages.map((m) => m.id).sort()).toEqual([a.body.id, b.body.id].sort());
      expect(messages[0].sendingDate < messages[1].sendingDate).toBe(true);
      const after = await get(body.id);
      expect(after.body.lastMessage!.id).toBe(messages[1].id);
      expect(after.body.updatedAt).toBe(messages[1].sendingDate);
    });

    it('keeps every one of many concurrent messages, in a strict order whose last is lastMessage', async () => {
      const { body } = await create({ assignedAgentId: 'agent-1' });
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          post(body.id, { transmitterId: i % 2 ? 'agent-1' : 'customer-1', content: `burst ${i}` }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
      const messages = await messagesOf(body.id);
      expect(messages).toHaveLength(12);
      const dates = messages.map((m) => m.sendingDate);
      expect(new Set(dates).size).toBe(12);
      expect([...dates].sort()).toEqual(dates);
      expect((await get(body.id)).body.lastMessage!.id).toBe(messages[11].id);
    });

    it('leaves one consistent result after two assignments at the same instant', async () => {
      const { body } = await create();
      const results = await Promise.all([assign(body.id, 'agent-a'), assign(body.id, 'agent-b')]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      const final = (await get(body.id)).body;
      expect(['agent-a', 'agent-b']).toContain(final.assignedAgentId);
      // Both joined one after the other; the customer is never lost.
      expect([...final.participants].sort()).toEqual(['agent-a', 'agent-b', 'customer-1']);
      expect(final.participants[0]).toBe('customer-1');
      // The answer given last is the final state.
      const last = results.find((r) => r.body.assignedAgentId === final.assignedAgentId)!;
      expect(last.body.participants).toEqual(final.participants);
    });

    it('lets only one of two PUTs holding the same ETag succeed', async () => {
      const { body, etag } = await create();
      const results = await Promise.all(
        ['one', 'two'].map((tripReference) => put(body.id, { ...base, tripReference }).set('If-Match', etag)),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
      const winner = results.find((r) => r.status === 200)!;
      expect((await get(body.id)).body.tripReference).toBe(winner.body.tripReference);
    });
  });

  describe('unknown and malformed ids', () => {
    it.each([
      ['GET', `/v1/conversations/${UNKNOWN}`],
      ['GET', '/v1/conversations/not-a-uuid'],
      ['PUT', `/v1/conversations/${UNKNOWN}`],
      ['PUT', '/v1/conversations/123'],
      ['PATCH', `/v1/conversations/${UNKNOWN}/assigned-agent`],
      ['PATCH', '/v1/conversations/nope/assigned-agent'],
      ['GET', `/v1/conversations/${UNKNOWN}/messages`],
      ['GET', '/v1/conversations/nope/messages'],
      ['POST', `/v1/conversations/${UNKNOWN}/messages`],
      ['POST', '/v1/conversations/nope/messages'],
      ['GET', `/v1/conversations/${UNKNOWN}/messages/${UNKNOWN}`],
      ['PATCH', `/v1/conversations/${UNKNOWN}/messages/${UNKNOWN}`],
    ])('answers %s %s with 404 RESOURCE_NOT_FOUND', async (method, path) => {
      const bodies: Record<string, object> = {
        PUT: base,
        PATCH: path.endsWith('assigned-agent') ? { assignedAgentId: 'agent-1' } : { status: 'READ' },
        POST: { transmitterId: 'customer-1', content: 'Hello' },
      };
      const call = api()[method.toLowerCase() as 'get' | 'put' | 'patch' | 'post'](path);
      const res = await (bodies[method] ? call.send(bodies[method]) : call).expect(404);
      expect(res.body).toMatchObject({
        name: 'RESOURCE_NOT_FOUND',
        debug_id: res.headers['x-correlation-id'],
        links: [],
      });
    });

    it('answers 404 for an unknown or malformed message id of a known conversation', async () => {
      const { body } = await create();
      await api().get(`/v1/conversations/${body.id}/messages/${UNKNOWN}`).expect(404);
      await api().get(`/v1/conversations/${body.id}/messages/not-a-uuid`).expect(404);
      await api().patch(`/v1/conversations/${body.id}/messages/not-a-uuid`).send({ status: 'READ' }).expect(404);
    });
  });
});
