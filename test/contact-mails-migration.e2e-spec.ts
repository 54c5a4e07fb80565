import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource, MigrationInterface } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { MailBody, settled, waitForMail } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

const DIR = join(__dirname, '..', 'migrations');
const ONE_PIPELINE = '1765000002000';

/** The migrations before `timestamp`, as a database deployed before it has them. */
function migrationsBefore(timestamp: string): Array<new () => MigrationInterface> {
  return readdirSync(DIR)
    .filter((file) => file.endsWith('.ts') && file < timestamp)
    .sort()
    .map((file) => Object.values(require(join(DIR, file)) as Record<string, new () => MigrationInterface>)[0]);
}

/**
 * A database deployed before contact mails joined the mail pipeline: its contact notifications
 * (pending, sent, failed) become mails with deliveries, and the pending one is then sent by the
 * mail workers under the Message-ID it already had.
 */
describe('Migration of contact notifications into the mail pipeline (real Postgres, real SMTP)', () => {
  let inbox: SmtpInbox;
  let service: TestApp | undefined;

  beforeAll(async () => {
    inbox = await startInbox();
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  it('moves every notification over and sends the pending one once', async () => {
    const databaseUrl = await createTestDatabase();
    const before = new DataSource({ ...dataSourceOptions(databaseUrl, 2), migrations: migrationsBefore(ONE_PIPELINE) });
    await before.initialize();
    const thread = '6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e';
    const ids = {
      pending: 'a1000000-0000-4000-8000-000000000001',
      sent: 'a1000000-0000-4000-8000-000000000002',
      failed: 'a1000000-0000-4000-8000-000000000003',
    };
    try {
      await before.runMigrations();
      await before.query(
        `INSERT INTO contact_message (id, conversation_id, sending_date, transmitter_id, name, mail, object, message, locale, correlation_id)
         VALUES ($1, $1, now(), NULL, 'Camille Martin', 'camille@example.com', 'Chien', 'Puis-je venir avec mon chien ?', 'fr', 'corr-old')`,
        [thread],
      );
      const notification = `INSERT INTO contact_notification (id, contact_message_id, kind, to_address, reply_to, first_name, locale, status, attempts, message_id, error, sent_at, correlation_id)
                             VALUES ($1, $2, $3, $4, $5, $6, 'fr', $7, $8, $9, $10, $11, 'corr-old')`;
      await before.query(notification, [
        ids.pending,
        thread,
        'CONTACT_ACKNOWLEDGEMENT',
        'camille@example.com',
        'support@voyages.test',
        'Camille Martin',
        'PENDING',
        2,
        '<old-ack@voyages.test>',
        'Try again later',
        null,
      ]);
      await before.query(notification, [
        ids.sent,
        thread,
        'CONTACT_FORWARD',
        'support@voyages.test',
        'camille@example.com',
        null,
        'SENT',
        1,
        '<old-fwd@voyages.test>',
        null,
        new Date(),
      ]);
      await before.query(notification, [
        ids.failed,
        thread,
        'CONTACT_REPLY',
        'gone@example.com',
        'support@voyages.test',
        null,
        'FAILED',
        1,
        '<old-reply@voyages.test>',
        '550 No such user',
        null,
      ]);
    } finally {
      await before.destroy();
    }

    // The service starts: the migration runs, the mail workers send what was pending.
    service = await startApp({ databaseUrl, smtpUrl: inbox.smtpUrl });
    const pending: MailBody = await waitForMail(service.url, ids.pending, settled);
    expect(pending).toMatchObject({
      category: 'CONTACT_ACKNOWLEDGEMENT',
      status: 'SENT',
      receiversId: [`contact:${thread}`],
      correlationId: 'corr-old',
    });
    expect(pending.deliveries[0]).toMatchObject({ messageId: '<old-ack@voyages.test>', email: 'c***@example.com' });
    const [received] = await inbox.waitFor((mail) => mail.parsed.messageId === '<old-ack@voyages.test>');
    expect(received.envelopeTo).toEqual(['camille@example.com']);
    expect(received.parsed.text).toContain('Bonjour Camille Martin');
    expect(received.parsed.text).toContain('Puis-je venir avec mon chien ?');

    const sent = (await request(service.url).get(`/v1/mails/${ids.sent}`).expect(200)).body as MailBody;
    expect(sent).toMatchObject({
      category: 'CONTACT_FORWARD',
      status: 'SENT',
      receiversId: ['support'],
      deliveries: [expect.objectContaining({ status: 'SENT', messageId: '<old-fwd@voyages.test>' })],
    });
    const failed = (await request(service.url).get(`/v1/mails/${ids.failed}`).expect(200)).body as MailBody;
    expect(failed).toMatchObject({
      category: 'CONTACT_REPLY',
      status: 'FAILED',
      deliveries: [
        expect.objectContaining({ status: 'FAILED', error: expect.objectContaining({ code: 'SMTP_REJECTED' }) }),
      ],
    });
    // Only the pending one left; nothing of pg-boss nor of the notification table remains.
    expect(inbox.messages.filter((mail) => mail.parsed.messageId?.startsWith('<old-'))).toHaveLength(1);
    const leftovers = await service.app
      .get(DataSource)
      .query(
        `SELECT to_regclass('contact_notification') AS t, (SELECT count(*) FROM pg_namespace WHERE nspname = 'pgboss')::int AS s`,
      );
    expect(leftovers).toEqual([{ t: null, s: 0 }]);
  });
});
