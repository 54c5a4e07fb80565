import { Client } from 'pg';
import request from 'supertest';
import type { ReceivedMail, SmtpInbox } from '../src/delivery/smtp-inbox';

/** Puts receivers in the recipient directory of the app at `url`. */
export async function putRecipients(
  url: string,
  recipients: Array<{ id: string; email: string; firstName?: string; locale?: 'fr' | 'en' }>,
): Promise<void> {
  for (const { id, ...body } of recipients) {
    await request(url)
      .put(`/v1/recipients/${id}`)
      .send(body)
      .expect((res) => {
        if (res.status !== 200 && res.status !== 201)
          throw new Error(`PUT recipient ${id}: ${res.status} ${JSON.stringify(res.body)}`);
      });
  }
}

/** Polls GET /v1/mails/{id} until `done` holds for the mail. */
export async function waitForMail(
  url: string,
  id: string,
  done: (mail: MailBody) => boolean,
  timeoutMs = 20_000,
): Promise<MailBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(url).get(`/v1/mails/${id}`);
    if (res.status === 200 && done(res.body as MailBody)) return res.body as MailBody;
    if (Date.now() > deadline) throw new Error(`Mail ${id} did not settle: ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Polls `condition` until it holds; throws, naming `what`, once `timeoutMs` have passed. The one
 * wait-for-a-condition helper of the suites (the fault suite's too): wait for what must happen,
 * never for a fixed time.
 */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The barrier before checking that a mail did not arrive (or not twice): waits until the mail queue
 * of the database is at rest, no attempt open (a claim opens it before any SMTP traffic, the settle
 * closes it after the relay's answer) and no unfinished delivery due. Past it, every copy sent so far
 * is in the inbox and none is about to go.
 */
export async function deliveriesAtRest(databaseUrl: string, timeoutMs = 20_000): Promise<void> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await waitUntil(
      'the mail queue at rest (no attempt open, no delivery due)',
      async () => {
        const { rows } = await db.query<{ busy: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM delivery_attempt WHERE finished_at IS NULL)
               OR EXISTS (SELECT 1 FROM delivery WHERE status IN ('SCHEDULED', 'PENDING', 'SENDING') AND due_at <= now()) AS busy`,
        );
        return !rows[0].busy;
      },
      timeoutMs,
    );
  } finally {
    await db.end();
  }
}

/**
 * The barrier before checking that a mail was not claimed (not sent before its time, not sent once
 * cancelled): a test-mode mail (claimed and settled like any other, sent to nobody) due at `at`
 * (now when absent), awaited until settled. The workers claim due deliveries oldest due first
 * (the delivery claim's ORDER BY due_at), so once it is settled every delivery that was due before
 * it has been claimed, its attempt counted; one still unclaimed was not due.
 */
export async function claimedThrough(url: string, receiverId: string, at?: Date): Promise<void> {
  // Never in the past when it arrives (refused), and never before `at` (no barrier).
  const scheduledAt = at && new Date(Math.max(at.getTime(), Date.now() + 1000)).toISOString();
  const res = await request(url)
    .post('/v1/mails')
    .send({ category: 'PROFILE_COMPLETION_REQUEST', receiversId: [receiverId], testMode: true, scheduledAt });
  if (res.status !== 202) throw new Error(`POST barrier mail: ${res.status} ${JSON.stringify(res.body)}`);
  await waitForMail(url, (res.body as MailBody).id, settled, 30_000);
}

/** Every delivery has its outcome and the mail's status follows them (both read in one snapshot). */
export const settled = (mail: MailBody): boolean =>
  !['SCHEDULED', 'PENDING'].includes(mail.status) &&
  mail.deliveries.every((d) => !['SCHEDULED', 'PENDING'].includes(d.status));

export interface MailBody {
  id: string;
  status: string;
  sendingDate: string | null;
  correlationId: string;
  category: string;
  scheduledAt: string | null;
  deliveries: Array<{
    receiverId: string;
    status: string;
    attempts: number;
    nextAttemptAt: string | null;
    email: string | null;
    sentAt: string | null;
    messageId: string;
    error: { code: string; message: string; smtpResponse: string | null } | null;
  }>;
  links: Array<{ rel: string; href: string; method: string }>;
}

/**
 * The unread digest a customer is mailed (CONVERSATION_UNREAD_MESSAGES, UNREAD_MAIL_DELAY_SECONDS
 * after a message): a conversation with the agent, a message from the agent, the digest's copy in
 * the inbox. Returns the copy and the conversation's id.
 */
export async function unreadDigest(
  url: string,
  inbox: SmtpInbox,
  to: { customerId: string; agentId: string; address: string },
): Promise<{ digest: ReceivedMail; conversationId: string }> {
  const conversation = await request(url)
    .post('/v1/conversations')
    .send({
      tripPublicationId: `TRIP-${to.customerId}`,
      tripReference: `VOY-${to.customerId}`,
      establishmentId: 'EST-1',
      customerId: to.customerId,
      assignedAgentId: to.agentId,
    })
    .expect(201);
  const conversationId = (conversation.body as { id: string }).id;
  await request(url)
    .post(`/v1/conversations/${conversationId}/messages`)
    .send({ transmitterId: to.agentId, content: 'Votre départ est confirmé.' })
    .expect(201);
  const [digest] = await inbox.waitFor(
    (m) =>
      m.parsed.headers.get('x-mail-category') === 'CONVERSATION_UNREAD_MESSAGES' && m.envelopeTo.includes(to.address),
  );
  return { digest, conversationId };
}
