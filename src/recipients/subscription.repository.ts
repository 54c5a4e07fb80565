import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';

/** How a preference was last changed (contract A3). */
export type SubscriptionSource = 'API' | 'ONE_CLICK' | 'PAGE' | 'MAILTO';

export interface Subscription {
  recipientId: string;
  category: string;
  emailSubscribed: boolean;
  changedAt: Date | null;
  source: SubscriptionSource | null;
  unsubscribeToken: string;
}

const COLUMNS = `recipient_id AS "recipientId", category, email_subscribed AS "emailSubscribed",
                 changed_at AS "changedAt", source, unsubscribe_token AS "unsubscribeToken"`;

/**
 * Receivers' consent to SUBSCRIPTION categories. A receiver without a row is subscribed. The
 * unsubscribe token is made with the row (160 random bits, hex: `unsubscribe+` and it fit in the 64
 * characters of a local part) and never changes.
 */
@Injectable()
export class SubscriptionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The row of a receiver and category, made (subscribed, with its token) when there is none. */
  async ensure(
    recipientId: string,
    category: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Subscription> {
    const rows: Subscription[] = await manager.query(
      `INSERT INTO subscription (recipient_id, category, unsubscribe_token) VALUES ($1, $2, $3)
       ON CONFLICT (recipient_id, category) DO UPDATE SET recipient_id = EXCLUDED.recipient_id
       RETURNING ${COLUMNS}`,
      [recipientId, category, randomBytes(20).toString('hex')],
    );
    return rows[0];
  }

  async findByToken(token: string): Promise<Subscription | null> {
    if (!/^[0-9a-f]{40}$/.test(token)) return null;
    const rows: Subscription[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM subscription WHERE unsubscribe_token = $1`,
      [token],
    );
    return rows[0] ?? null;
  }

  async findByRecipient(recipientId: string): Promise<Subscription[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM subscription WHERE recipient_id = $1`, [recipientId]);
  }

  /**
   * Sets the email preference; `changed` is false when it already was so (nothing is written then:
   * repeating an unsubscribe changes nothing).
   */
  async setEmail(
    manager: EntityManager,
    recipientId: string,
    category: string,
    subscribed: boolean,
    source: SubscriptionSource,
  ): Promise<{ subscription: Subscription; changed: boolean }> {
    const before = await this.ensure(recipientId, category, manager);
    if (before.emailSubscribed === subscribed) return { subscription: before, changed: false };
    // An UPDATE answers [rows, count] through TypeORM's Postgres driver.
    const [rows]: [Subscription[], number] = await manager.query(
      `UPDATE subscription SET email_subscribed = $3, changed_at = now(), source = $4
       WHERE recipient_id = $1 AND category = $2 RETURNING ${COLUMNS}`,
      [recipientId, category, subscribed, source],
    );
    return { subscription: rows[0], changed: true };
  }
}
