import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { MailWithDeliveries } from './mail.entity';

/**
 * The one insert of mails and their deliveries (the rows MailFactory builds): used by the group
 * commit of POST /v1/mails (MailWriteBatcher), by a POST with an Idempotency-Key in its own
 * transaction, and by the mails other features create (MailWriter).
 */
@Injectable()
export class MailInserter {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Mails and their deliveries in one statement whatever their number (a single statement is
   * atomic: no BEGIN/COMMIT round trips), fed by arrays: the batch endpoint and the group commit
   * of concurrent POSTs store up to hundreds of mails this way. `manager`: inside its transaction.
   */
  async insert(rows: MailWithDeliveries[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    const mails = rows.map((r) => r.mail);
    const deliveries = rows.flatMap((r) => r.deliveries);
    await manager.query(
      `WITH new_mails AS (
         INSERT INTO mail (id, category, receivers_id, publication_id, reservation_id, product_type, organization_id, establishment_id,
                           variables, locale, test_mode, status, correlation_id, scheduled_at, contact_message_id, reply_to, force_sending, forced_by,
                           deliveries_total, created_at, updated_at)
         SELECT id, category, ARRAY(SELECT jsonb_array_elements_text(receivers)), publication_id, reservation_id, product_type, organization_id,
                establishment_id, variables, locale, test_mode, status, correlation_id, scheduled_at, contact_message_id, reply_to, force_sending, forced_by,
                jsonb_array_length(receivers),
                created_at, created_at
         FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::text[],
                     $11::boolean[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $24::uuid[], $25::text[],
                     $27::boolean[], $28::text[])
           AS t (id, category, receivers, publication_id, reservation_id, product_type, organization_id, establishment_id, variables, locale,
                 test_mode, status, correlation_id, scheduled_at, created_at, contact_message_id, reply_to, force_sending, forced_by)
       )
       INSERT INTO delivery (id, mail_id, position, receiver_id, status, message_id, due_at, first_due_at, email, updated_at)
       SELECT id, mail_id, position, receiver_id, status, message_id, due_at, due_at, email, updated_at
       FROM unnest($16::uuid[], $17::uuid[], $18::int[], $19::text[], $20::text[], $21::text[], $22::timestamptz[], $23::timestamptz[], $26::text[])
         AS t (id, mail_id, position, receiver_id, status, message_id, due_at, updated_at, email)`,
      [
        mails.map((m) => m.id),
        mails.map((m) => m.category),
        mails.map((m) => JSON.stringify(m.receiversId)),
        mails.map((m) => m.publicationId),
        mails.map((m) => m.reservationId),
        mails.map((m) => m.productType),
        mails.map((m) => m.organizationId),
        mails.map((m) => m.establishmentId),
        mails.map((m) => JSON.stringify(m.variables)),
        mails.map((m) => m.locale),
        mails.map((m) => m.testMode),
        mails.map((m) => m.status),
        mails.map((m) => m.correlationId),
        mails.map((m) => m.scheduledAt),
        mails.map((m) => m.createdAt),
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.mailId),
        deliveries.map((d) => d.position),
        deliveries.map((d) => d.receiverId),
        deliveries.map((d) => d.status),
        deliveries.map((d) => d.messageId),
        deliveries.map((d) => d.dueAt),
        deliveries.map((d) => d.updatedAt),
        mails.map((m) => m.contactMessageId),
        mails.map((m) => m.replyTo),
        deliveries.map((d) => d.email),
        mails.map((m) => m.forceSending),
        mails.map((m) => m.forcedBy),
      ],
    );
  }
}
