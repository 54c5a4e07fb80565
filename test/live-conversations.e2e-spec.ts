import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { claimedThrough, deliveriesAtRest, MailBody, putRecipients } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

interface Message {
  id: string;
  receiverId: string | null;
  status: string;
  receivedDate: string | null;
}
interface Marker {
  participantId: string;
  lastReadMessageId: string;
  lastReadAt: string;
  unreadCount: number;
}
interface TimelineEntry {
  type: string;
  actorId: string | null;
  correlationId: string | null;
  data: Record<string, unknown>;
}

/**
 * Read markers, unread counts, the timeline and the unread-mail fallback, on two instances of the
 * service sharing one database (as behind a load balancer), with small mail delays.
 */
describe('Live conversations: markers, unread counts, timeline, unread mail (two instances, real Postgres and SMTP)', () => {
  let inbox: SmtpInbox;
  let one: TestApp;
  let two: TestApp;
  const DELAY_MS = 2000;
  const env = { UNREAD_MAIL_DELAY_SECONDS: String(DELAY_MS / 1000), UNREAD_MAIL_INTERVAL_SECONDS: '3600' };

  beforeAll(async () => {
    inbox = await startInbox();
    const databaseUrl = await createTestDatabase();
    one = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env });
    two = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env });
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await inbox?.stop();
  });

  let seq = 0;
  async function conversation(customerId: string, agentId: string): Promise<string> {
    seq += 1;
    const res = await request(one.url)
      .post('/v1/conversations')
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
  async function post(url: string, id: string, transmitterId: string, content: string): Promise<Message> {
    const res = await request(url)
      .post(`/v1/conversations/${id}/messages`)
      .send({ transmitterId, content })
      .expect(201);
    return res.body as Message;
  }
  async function read(url: string, id: string, participantId: string, lastReadMessageId: string): Promise<Marker> {
    const res = await request(url)
      .put(`/v1/conversations/${id}/read-marker`)
      .send({ participantId, lastReadMessageId })
      .expect(200);
    return res.body as Marker;
  }

  it('a marker makes the messages up to it READ, never moves backwards, and the counts follow', async () => {
    const id = await conversation('cust-a', 'agent-a');
    const m1 = await post(one.url, id, 'agent-a', 'Bonjour');
    const m2 = await post(two.url, id, 'agent-a', 'Votre départ est confirmé');
    const m3 = await post(one.url, id, 'agent-a', 'Bon voyage');
    await post(one.url, id, 'cust-a', 'Merci !'); // addressed to the agent: not the customer's to read

    let unread = await request(two.url).get('/v1/participants/cust-a/unread').expect(200);
    expect(unread.body.totalUnread).toBe(3);
    expect(unread.body.conversations).toEqual([expect.objectContaining({ conversationId: id, unreadCount: 3 })]);

    const marker = await read(two.url, id, 'cust-a', m2.id);
    expect(marker).toMatchObject({ participantId: 'cust-a', lastReadMessageId: m2.id, unreadCount: 1 });
    for (const m of [m1, m2]) {
      const got = await request(one.url).get(`/v1/conversations/${id}/messages/${m.id}`).expect(200);
      expect(got.body.status).toBe('READ');
      expect(got.body.receivedDate).not.toBeNull();
    }
    expect((await request(one.url).get(`/v1/conversations/${id}/messages/${m3.id}`)).body.status).toBe('SENT');

    // An older message leaves the marker where it is.
    const back = await read(one.url, id, 'cust-a', m1.id);
    expect(back).toMatchObject({ lastReadMessageId: m2.id, unreadCount: 1 });

    const list = await request(one.url).get('/v1/conversations').query({ participantId: 'cust-a' }).expect(200);
    expect(list.body.content).toEqual([expect.objectContaining({ id, unreadCount: 1 })]);
    const agentList = await request(one.url).get('/v1/conversations').query({ participantId: 'agent-a' }).expect(200);
    expect(agentList.body.content).toEqual([expect.objectContaining({ id, unreadCount: 1 })]);

    await read(one.url, id, 'cust-a', m3.id);
    unread = await request(two.url).get('/v1/participants/cust-a/unread').expect(200);
    expect(unread.body).toMatchObject({ totalUnread: 0, conversations: [] });
  });

  it('a marker of someone who is not a participant, or on a message of another conversation, is refused', async () => {
    const id = await conversation('cust-b', 'agent-b');
    const other = await conversation('cust-b', 'agent-b');
    const m = await post(one.url, other, 'agent-b', 'Ailleurs');
    await request(one.url)
      .put(`/v1/conversations/${id}/read-marker`)
      .send({ participantId: 'stranger', lastReadMessageId: m.id })
      .expect(400);
    await request(one.url)
      .put(`/v1/conversations/${id}/read-marker`)
      .send({ participantId: 'cust-b', lastReadMessageId: m.id })
      .expect(404);
  });

  it('counts stay exact while messages are posted and read concurrently on both instances', async () => {
    const id = await conversation('cust-c', 'agent-c');
    const posted = await Promise.all(
      Array.from({ length: 30 }, (_, i) => post(i % 2 ? one.url : two.url, id, 'agent-c', `message ${i}`)),
    );
    // Markers race with more posts; each answer must agree with what is READ in the end.
    const more = Promise.all(
      Array.from({ length: 10 }, (_, i) => post(i % 2 ? two.url : one.url, id, 'agent-c', `later ${i}`)),
    );
    const byDate = [...posted].sort((a, b) =>
      (a as unknown as { sendingDate: string }).sendingDate.localeCompare(
        (b as unknown as { sendingDate: string }).sendingDate,
      ),
    );
    await Promise.all(byDate.map((m, i) => read(i % 2 ? one.url : two.url, id, 'cust-c', m.id)));
    await more;
    const page = await request(one.url).get(`/v1/conversations/${id}/messages`).query({ sizePage: 100 }).expect(200);
    const stillUnread = (page.body.content as Message[]).filter((m) => m.status !== 'READ').length;
    expect(stillUnread).toBe(10);
    const unread = await request(two.url).get('/v1/participants/cust-c/unread').expect(200);
    expect(unread.body.totalUnread).toBe(10);
    const marker = await read(one.url, id, 'cust-c', byDate[0].id);
    expect(marker.lastReadMessageId).toBe(byDate[byDate.length - 1].id);
    expect(marker.unreadCount).toBe(10);
  });

  it('the timeline records every change with its actor and correlation id, oldest first', async () => {
    const id = await conversation('cust-d', 'agent-d');
    const m = await post(one.url, id, 'cust-d', 'Question');
    await request(two.url)
      .patch(`/v1/conversations/${id}/assigned-agent`)
      .send({ assignedAgentId: 'agent-e' })
      .expect(200);
    await request(one.url).patch(`/v1/conversations/${id}/messages/${m.id}`).send({ status: 'DELIVERED' }).expect(200);
    const answer = await post(two.url, id, 'agent-e', 'Réponse');
    await request(one.url)
      .put(`/v1/conversations/${id}/read-marker`)
      .set('X-Correlation-ID', 'corr-read-1')
      .send({ participantId: 'cust-d', lastReadMessageId: answer.id })
      .expect(200);
    const res = await request(two.url).get(`/v1/conversations/${id}/timeline`).query({ sizePage: 50 }).expect(200);
    const entries = res.body.content as TimelineEntry[];
    expect(entries.map((e) => e.type)).toEqual([
      'CREATED',
      'MESSAGE_POSTED',
      'ASSIGNED',
      'MESSAGE_STATUS_CHANGED',
      'MESSAGE_POSTED',
      'READ',
    ]);
    expect(entries.map((e) => e.actorId)).toEqual([null, 'cust-d', null, null, 'agent-e', 'cust-d']);
    expect(entries[2].data).toMatchObject({ from: 'agent-d', to: 'agent-e' });
    expect(entries[5].correlationId).toBe('corr-read-1');
    expect(entries.every((e) => typeof e.correlationId === 'string')).toBe(true);
    await request(one.url).get('/v1/conversations/6f1c2b9e-0d4a-4b8e-9a51-3c2d1e0f9a87/timeline').expect(404);
  });

  it('mails a digest once to a receiver who left a message unread past the delay, and nothing to one who read it in time', async () => {
    await putRecipients(one.url, [
      { id: 'cust-late', email: 'late@voyages.test', locale: 'en' },
      { id: 'cust-quick', email: 'quick@voyages.test', locale: 'fr' },
    ]);
    const late1 = await conversation('cust-late', 'agent-f');
    const late2 = await conversation('cust-late', 'agent-g');
    const quick = await conversation('cust-quick', 'agent-f');
    await post(one.url, late1, 'agent-f', 'Your documents are ready');
    await post(two.url, late2, 'agent-g', 'A question about your room');
    await post(two.url, late1, 'agent-f', 'And the ticket too');
    const q = await post(one.url, quick, 'agent-f', 'Votre billet est prêt');
    await read(two.url, quick, 'cust-quick', q.id);

    const [mail] = await inbox.waitFor((m) => m.envelopeTo.includes('late@voyages.test'), 1, 20_000);
    const text = mail.parsed.text ?? '';
    expect(mail.parsed.subject).toContain('unread messages');
    expect(text).toContain(`https://app.voyages.test/conversations/${late1}`);
    expect(text).toContain('2 conversation');

    // A new unread message within UNREAD_MAIL_INTERVAL_SECONDS waits for the interval.
    await post(one.url, late2, 'agent-g', 'One more thing');
    // Well past the delay: the workers have claimed every mail due by then (oldest due first), and
    // the attempts of those they took have ended.
    await claimedThrough(one.url, 'cust-quick', new Date(Date.now() + DELAY_MS + 500));
    await deliveriesAtRest(one.config.database.url);
    expect(inbox.messages.filter((m) => m.envelopeTo.includes('late@voyages.test'))).toHaveLength(1);
    expect(inbox.messages.filter((m) => m.envelopeTo.includes('quick@voyages.test'))).toHaveLength(0);

    const listed = await request(two.url)
      .get('/v1/mails')
      .query({ category: 'CONVERSATION_UNREAD_MESSAGES', receiverId: 'cust-late' })
      .expect(200);
    const sent = (listed.body.content as MailBody[]).filter((m) => m.status === 'SENT');
    expect(sent).toHaveLength(1);
    expect(sent[0].deliveries[0]).toMatchObject({ receiverId: 'cust-late', status: 'SENT' });
    const quickMails = await request(one.url)
      .get('/v1/mails')
      .query({ category: 'CONVERSATION_UNREAD_MESSAGES', receiverId: 'cust-quick' })
      .expect(200);
    expect((quickMails.body.content as MailBody[]).every((m) => m.status === 'CANCELLED')).toBe(true);
  });

  it('a digest scheduled before both instances stop is sent once by the instance started after', async () => {
    await putRecipients(one.url, [{ id: 'cust-restart', email: 'restart@voyages.test', locale: 'fr' }]);
    const id = await conversation('cust-restart', 'agent-h');
    await post(two.url, id, 'agent-h', 'Êtes-vous toujours intéressé ?');
    const databaseUrl = one.config.database.url;
    await one.close();
    await two.close();
    one = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env });
    two = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl, env });
    const [mail] = await inbox.waitFor((m) => m.envelopeTo.includes('restart@voyages.test'), 1, 20_000);
    expect(mail.parsed.subject).toContain('non lus');
    // Nothing in flight nor due any more (a second copy would be one or the other).
    await deliveriesAtRest(databaseUrl);
    expect(inbox.messages.filter((m) => m.envelopeTo.includes('restart@voyages.test'))).toHaveLength(1);
  });
});
