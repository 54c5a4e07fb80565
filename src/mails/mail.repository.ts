import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { DeliveryEntity } from './delivery.entity';
import { ListMailsQueryDto } from './dto/list-mails.query.dto';
import { MailEntity } from './mail.entity';
import { DeliveryStatus } from './mail-status';

export interface DeliveryOutcome {
  status: DeliveryStatus.SENT | DeliveryStatus.FAILED;
  email: string | null;
  error: string | null;
  sentAt: Date | null;
}

/** Named queries of mails and deliveries, so services never assemble SQL. */
@Injectable()
export class MailRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The mail and its deliveries in one statement (one round trip on the hot path of POST /v1/mails). */
  async insertMail(manager: EntityManager, mail: MailEntity, deliveries: DeliveryEntity[]): Promise<void> {
    await manager.query(
      `WITH new_mail AS (
         INSERT INTO mail (id, category, receivers_id, publication_id, reservation_id, product_type, organization_id,
                           establishment_id, variables, locale, test_mode, status, correlation_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
       )
       INSERT INTO delivery (id, mail_id, position, receiver_id, status, message_id, updated_at)
       SELECT d.id, $1, d.position - 1, d.receiver_id, 'PENDING', d.message_id, $14
       FROM unnest($15::uuid[], $16::text[], $17::text[]) WITH ORDINALITY AS d (id, receiver_id, message_id, position)`,
      [
        mail.id,
        mail.category,
        mail.receiversId,
        mail.publicationId,
        mail.reservationId,
        mail.productType,
        mail.organizationId,
        mail.establishmentId,
        mail.variables,
        mail.locale,
        mail.testMode,
        mail.status,
        mail.correlationId,
        mail.createdAt,
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.receiverId),
        deliveries.map((d) => d.messageId),
      ],
    );
  }

  async findWithDeliveries(id: string): Promise<{ mail: MailEntity; deliveries: DeliveryEntity[] } | null> {
    const mail = await this.dataSource.getRepository(MailEntity).findOneBy({ id });
    if (!mail) return null;
    const deliveries = await this.dataSource.getRepository(DeliveryEntity).find({ where: { mailId: id }, order: { position: 'ASC' } });
    return { mail, deliveries };
  }

  /** A page of mails, newest first, with the deliveries of those mails in one more query. */
  async findPage(query: ListMailsQueryDto): Promise<{ rows: Array<{ mail: MailEntity; deliveries: DeliveryEntity[] }>; total: number }> {
    const qb = this.dataSource.getRepository(MailEntity).createQueryBuilder('m');
    const equals = ['category', 'status', 'publicationId', 'reservationId', 'organizationId', 'establishmentId'] as const;
    for (const field of equals) {
      if (query[field] !== undefined) qb.andWhere(`m.${field} = :${field}`, { [field]: query[field] });
    }
    if (query.receiverId !== undefined) {
      qb.andWhere('EXISTS (SELECT 1 FROM delivery d WHERE d.mail_id = m.id AND d.receiver_id = :receiverId)', { receiverId: query.receiverId });
    }
    if (query.from !== undefined) qb.andWhere('m.createdAt >= :from', { from: new Date(query.from) });
    if (query.until !== undefined) qb.andWhere('m.createdAt < :until', { until: new Date(query.until) });
    const [mails, total] = await qb
      .orderBy('m.createdAt', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .skip((query.currentPage - 1) * query.sizePage)
      .take(query.sizePage)
      .getManyAndCount();
    const deliveries = mails.length
      ? await this.dataSource.getRepository(DeliveryEntity).find({ where: { mailId: In(mails.map((m) => m.id)) }, order: { position: 'ASC' } })
      : [];
    return { rows: mails.map((mail) => ({ mail, deliveries: deliveries.filter((d) => d.mailId === mail.id) })), total };
  }

  async findDeliveryWithMail(deliveryId: string): Promise<{ delivery: DeliveryEntity; mail: MailEntity } | null> {
    const delivery = await this.dataSource.getRepository(DeliveryEntity).findOne({ where: { id: deliveryId }, relations: { mail: true } });
    return delivery?.mail ? { delivery, mail: delivery.mail } : null;
  }

  /** A transient failure: one more attempt and its reason; the delivery stays PENDING. */
  async recordAttempt(deliveryId: string, email: string | null, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE delivery SET attempts = attempts + 1, email = COALESCE($2, email), error = $3, updated_at = now() WHERE id = $1 AND status = 'PENDING'`,
      [deliveryId, email, error],
    );
  }

  /**
   * Settles a pending delivery and recomputes its mail's status and sendingDate from all its
   * deliveries. The mail row is locked first, so concurrent settlements of one mail's deliveries
   * recompute one after the other and the last one sees them all.
   */
  async settle(mailId: string, deliveryId: string, outcome: DeliveryOutcome, countsAsAttempt: boolean): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT 1 FROM mail WHERE id = $1 FOR UPDATE', [mailId]);
      const updated: [unknown[], number] = await manager.query(
        `UPDATE delivery SET status = $2, email = COALESCE($3, email), error = $4, sent_at = $5,
           attempts = attempts + $6, updated_at = now()
         WHERE id = $1 AND status = 'PENDING'`,
        [deliveryId, outcome.status, outcome.email, outcome.error, outcome.sentAt, countsAsAttempt ? 1 : 0],
      );
      if (updated[1] === 0) return false;
      await manager.query(
        `UPDATE mail m SET
           status = CASE
             WHEN s.pending > 0 THEN 'PENDING'
             WHEN s.sent = s.total THEN 'SENT'
             WHEN s.cancelled = s.total THEN 'CANCELLED'
             WHEN s.sent > 0 THEN 'PARTIALLY_SENT'
             ELSE 'FAILED' END,
           sending_date = COALESCE(m.sending_date, s.first_sent),
           updated_at = now()
         FROM (SELECT count(*) AS total,
                      count(*) FILTER (WHERE status = 'PENDING') AS pending,
                      count(*) FILTER (WHERE status = 'SENT') AS sent,
                      count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled,
                      min(sent_at) AS first_sent
               FROM delivery WHERE mail_id = $1) s
         WHERE m.id = $1`,
        [mailId],
      );
      return true;
    });
  }
}
