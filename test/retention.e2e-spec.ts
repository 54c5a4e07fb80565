import request from 'supertest';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { MaintenanceJob } from '../src/queue/maintenance.job';
import { MailBody, putRecipients, settled, waitForMail } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

const ADDRESS = 'lea.purge@example.com';

/** Retention per category (contract A5): the setting, and the purge the maintenance job runs. */
describe('Retention (real Postgres)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    inbox = await startInbox();
    service = await startApp({ databaseUrl: await createTestDatabase(), smtpUrl: inbox.smtpUrl });
    db = service.app.get<DataSource>(getDataSourceToken());
    await putRecipients(service.url, [{ id: 'lea', email: ADDRESS, firstName: 'Léa' }]);
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  /** Every text of the mail's rows (mail, its deliveries, their attempts), for a search of the address. */
  const rowTexts = async (mailId: string): Promise<string> =>
    JSON.stringify(
      await db.query(
        `SELECT to_jsonb(m) AS mail,
           (SELECT jsonb_agg(to_jsonb(d)) FROM delivery d WHERE d.mail_id = m.id) AS deliveries,
           (SELECT jsonb_agg(to_jsonb(a)) FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id WHERE d.mail_id = m.id) AS attempts
         FROM mail m WHERE m.id = $1`,
        [mailId],
      ),
    );

  const postMail = async (category: string): Promise<string> => {
    const res = await request(service.url)
      .post('/v1/mails')
      .send({ category, receiversId: ['lea'], organizationId: 'ORG-1', variables: { organizationName: ADDRESS } })
      .expect(202);
    const id = (res.body as { id: string }).id;
    await waitForMail(service.url, id, settled);
    // What a relay's refusal leaves: the address in the delivery's error and reply, and the attempt's.
    await db.query(`UPDATE delivery SET error = $2, smtp_response = $2 WHERE mail_id = $1`, [
      id,
      `550 5.1.1 <${ADDRESS}> unknown`,
    ]);
    await db.query(
      `UPDATE delivery_attempt a SET smtp_response = $2 FROM delivery d WHERE d.id = a.delivery_id AND d.mail_id = $1`,
      [id, `550 5.1.1 <${ADDRESS}> unknown`],
    );
    await db.query(`UPDATE mail SET reply_to = $2 WHERE id = $1`, [id, ADDRESS]);
    return id;
  };

  it('reads and sets the days of a category: MAIL_RETENTION_DAYS by default, 0..36500, unknown category 404', async () => {
    const res = await request(service.url).get('/v1/categories/ORGANIZATION_CREATION_REQUEST/retention').expect(200);
    expect(res.body).toMatchObject({ category: 'ORGANIZATION_CREATION_REQUEST', days: 365 });
    expect((res.body as { links: Array<{ rel: string; method: string }> }).links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rel: 'self', method: 'GET' }),
        expect.objectContaining({ rel: 'update', method: 'PUT' }),
      ]),
    );

    await request(service.url)
      .put('/v1/categories/ORGANIZATION_CREATION_REQUEST/retention')
      .send({ days: 30 })
      .expect(200)
      .expect((r) => expect(r.body).toMatchObject({ category: 'ORGANIZATION_CREATION_REQUEST', days: 30 }));
    await request(service.url)
      .get('/v1/categories/ORGANIZATION_CREATION_REQUEST/retention')
      .expect(200)
      .expect((r) => expect(r.body).toMatchObject({ days: 30 }));

    for (const days of [-1, 36501, 1.5, '30', null]) {
      const bad = await request(service.url)
        .put('/v1/categories/ORGANIZATION_CREATION_REQUEST/retention')
        .send({ days })
        .expect(400);
      expect(bad.body).toMatchObject({
        name: 'VALIDATION_ERROR',
        details: expect.arrayContaining([expect.objectContaining({ field: 'days', location: 'body' })]),
      });
    }
    await request(service.url).put('/v1/categories/ORGANIZATION_CREATION_REQUEST/retention').send({}).expect(400);

    await request(service.url).get('/v1/categories/NO_SUCH_CATEGORY/retention').expect(404);
    await request(service.url).put('/v1/categories/NO_SUCH_CATEGORY/retention').send({ days: 1 }).expect(404);
  });

  it("purges a mail older than its category's days and keeps it listed; a category kept for ever is not purged", async () => {
    await request(service.url)
      .put('/v1/categories/ORGANIZATION_CREATION_REQUEST/retention')
      .send({ days: 30 })
      .expect(200);
    await request(service.url)
      .put('/v1/categories/ORGANIZATION_INFO_COMPLETION_REQUEST/retention')
      .send({ days: 0 })
      .expect(200);
    const old = await postMail('ORGANIZATION_CREATION_REQUEST');
    const recent = await postMail('ORGANIZATION_CREATION_REQUEST');
    const forever = await postMail('ORGANIZATION_INFO_COMPLETION_REQUEST');
    await db.query(`UPDATE mail SET created_at = now() - interval '31 days' WHERE id = ANY($1)`, [[old, forever]]);
    await db.query(`UPDATE mail SET created_at = now() - interval '29 days' WHERE id = $1`, [recent]);
    for (const id of [old, recent, forever]) expect(await rowTexts(id)).toContain(ADDRESS);

    expect(await service.app.get(MaintenanceJob).run()).toMatchObject({ mails: 1 });

    expect(await rowTexts(old)).not.toContain(ADDRESS);
    expect(await rowTexts(old)).not.toContain('lea.purge');
    expect(await rowTexts(recent)).toContain(ADDRESS);
    expect(await rowTexts(forever)).toContain(ADDRESS);

    const view = (await request(service.url).get(`/v1/mails/${old}`).expect(200)).body as MailBody & {
      purgedAt: string | null;
      variables: Record<string, unknown>;
    };
    expect(view).toMatchObject({ id: old, category: 'ORGANIZATION_CREATION_REQUEST', status: 'SENT', variables: {} });
    expect(view.purgedAt).toEqual(expect.any(String));
    expect(view.deliveries).toEqual([
      expect.objectContaining({ receiverId: 'lea', status: 'SENT', email: null, sentAt: expect.any(String) }),
    ]);
    const kept = (await request(service.url).get(`/v1/mails/${recent}`).expect(200)).body as { purgedAt: unknown };
    expect(kept.purgedAt).toBeNull();

    const list = (await request(service.url).get('/v1/mails?category=ORGANIZATION_CREATION_REQUEST').expect(200))
      .body as { content: Array<{ id: string; purgedAt: string | null }> };
    expect(list.content.find((m) => m.id === old)?.purgedAt).toEqual(view.purgedAt);

    // Purged once: the next run has nothing to do.
    expect(await service.app.get(MaintenanceJob).run()).toMatchObject({ mails: 0 });
  });

  it('empties the messages of a conversation ARCHIVED for longer than CONVERSATION_RETENTION_DAYS', async () => {
    const conversation = async (status: string, age: string): Promise<string> => {
      const [{ id }]: Array<{ id: string }> = await db.query(
        `INSERT INTO conversation (id, trip_publication_id, trip_reference, establishment_id, customer_id, participants, status, version, created_at, updated_at)
         VALUES (gen_random_uuid(), 'PUB-1', 'REF-1', 'EST-1', 'lea', '{lea,agent}', $1, 1, now() - $2::interval, now() - $2::interval)
         RETURNING id`,
        [status, age],
      );
      await db.query(
        `INSERT INTO conversation_message (id, conversation_id, sending_date, transmitter_id, receiver_id, transmitter_type, content, content_type, status, correlation_id)
         VALUES (gen_random_uuid(), $1, now() - $2::interval, 'lea', 'agent', 'CUSTOMER', $3, 'text/plain', 'READ', 'c')`,
        [id, age, `Write to me at ${ADDRESS}`],
      );
      return id;
    };
    const oldArchived = await conversation('ARCHIVED', '731 days');
    const recentArchived = await conversation('ARCHIVED', '729 days');
    const oldOpen = await conversation('OPEN', '731 days');

    expect(await service.app.get(MaintenanceJob).run()).toMatchObject({ conversationMessages: 1 });

    const contents = async (id: string): Promise<string[]> =>
      (await db.query(`SELECT content FROM conversation_message WHERE conversation_id = $1`, [id])).map(
        (r: { content: string }) => r.content,
      );
    expect(await contents(oldArchived)).toEqual(['']);
    expect(await contents(recentArchived)).toEqual([`Write to me at ${ADDRESS}`]);
    expect(await contents(oldOpen)).toEqual([`Write to me at ${ADDRESS}`]);
    expect(await service.app.get(MaintenanceJob).run()).toMatchObject({ conversationMessages: 0 });
  });
});
