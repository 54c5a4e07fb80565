import request from 'supertest';

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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
