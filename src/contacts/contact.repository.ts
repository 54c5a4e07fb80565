import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ContactMessageEntity } from './contact-message.entity';
import { ContactScope } from './contact.policy';

/** Someone who wrote in a thread, as they last presented themselves there. */
export interface ThreadWriter {
  mail: string;
  name: string;
  locale: string;
  lastSendingDate: Date;
}

/** Named queries of contact messages, so services never assemble SQL (their mails are mails: MailWriter). */
@Injectable()
export class ContactRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * The first message of a thread, locked until the transaction ends: replies in one thread are
   * written one after the other, so each sees every earlier message.
   */
  lockThread(manager: EntityManager, threadId: string): Promise<ContactMessageEntity | null> {
    return manager
      .getRepository(ContactMessageEntity)
      .findOne({ where: { id: threadId, conversationId: threadId }, lock: { mode: 'pessimistic_write' } });
  }

  /** Every distinct address of a thread (case-insensitive), with the name and locale of its latest message. */
  async findThreadWriters(manager: EntityManager, threadId: string): Promise<ThreadWriter[]> {
    const rows: Array<{ mail: string; name: string; locale: string; sending_date: Date }> = await manager.query(
      `SELECT DISTINCT ON (lower(mail)) mail, name, locale, sending_date
       FROM contact_message WHERE conversation_id = $1
       ORDER BY lower(mail), sending_date DESC, id DESC`,
      [threadId],
    );
    return rows.map((row) => ({
      mail: row.mail,
      name: row.name,
      locale: row.locale,
      lastSendingDate: row.sending_date,
    }));
  }

  async insertMessage(manager: EntityManager, message: ContactMessageEntity): Promise<void> {
    await manager.insert(ContactMessageEntity, message);
  }

  /** A message of a thread within the scope: a person's look-up joins the thread's first message, which they must have written. */
  findById(id: string, scope: ContactScope): Promise<ContactMessageEntity | null> {
    const qb = this.dataSource.getRepository(ContactMessageEntity).createQueryBuilder('m').where('m.id = :id', { id });
    if (!scope.all) {
      qb.innerJoin(ContactMessageEntity, 'opener', 'opener.id = m.conversation_id').andWhere(
        scope.openerId === null ? 'FALSE' : 'opener.transmitter_id = :openerId',
        {
          openerId: scope.openerId,
        },
      );
    }
    return qb.getOne();
  }

  /** A page of a thread, oldest first (served by the (conversation_id, sending_date, id) index). */
  async findThreadPage(
    threadId: string,
    currentPage: number,
    sizePage: number,
  ): Promise<{ rows: ContactMessageEntity[]; total: number }> {
    const [rows, total] = await this.dataSource.getRepository(ContactMessageEntity).findAndCount({
      where: { conversationId: threadId },
      order: { sendingDate: 'ASC', id: 'ASC' },
      skip: (currentPage - 1) * sizePage,
      take: sizePage,
    });
    return { rows, total };
  }
}
