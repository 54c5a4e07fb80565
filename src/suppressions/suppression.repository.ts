import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SuppressionReason } from './dto/suppression.dto';

export interface Suppression {
  email: string;
  reason: SuppressionReason;
  note: string | null;
  lastBounce: string | null;
  createdAt: Date;
}

/**
 * The suppression list, keyed by the lower-cased address. Hard bounces are written by the mail
 * settle statement itself (src/mails/mail.repository.ts) and read by its claim statement.
 */
@Injectable()
export class SuppressionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findPage(
    filter: { email?: string; reason?: string },
    currentPage: number,
    sizePage: number,
  ): Promise<{ rows: Suppression[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.email !== undefined) where.push(`email = $${params.push(filter.email.toLowerCase())}`);
    if (filter.reason !== undefined) where.push(`reason = $${params.push(filter.reason)}`);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [rows, [{ total }]]: [SuppressionRow[], Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(
        `SELECT * FROM suppression ${clause} ORDER BY created_at DESC, email LIMIT ${sizePage} OFFSET ${(currentPage - 1) * sizePage}`,
        params,
      ),
      this.dataSource.query(`SELECT count(*)::int AS total FROM suppression ${clause}`, params),
    ]);
    return { rows: rows.map(toSuppression), total };
  }

  async find(email: string): Promise<Suppression | null> {
    const rows: SuppressionRow[] = await this.dataSource.query(`SELECT * FROM suppression WHERE email = $1`, [
      email.toLowerCase(),
    ]);
    return rows.length ? toSuppression(rows[0]) : null;
  }

  /** Adds the address (MANUAL) or sets the note of its entry; `created` tells which. */
  async put(email: string, note: string | null): Promise<{ suppression: Suppression; created: boolean }> {
    const rows: Array<SuppressionRow & { created: boolean }> = await this.dataSource.query(
      `INSERT INTO suppression (email, reason, note) VALUES ($1, 'MANUAL', $2)
       ON CONFLICT (email) DO UPDATE SET note = EXCLUDED.note, updated_at = now()
       RETURNING *, (xmax = 0) AS created`,
      [email.toLowerCase(), note],
    );
    return { suppression: toSuppression(rows[0]), created: rows[0].created };
  }

  async delete(email: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM suppression WHERE email = $1 RETURNING 1) SELECT * FROM gone`,
      [email.toLowerCase()],
    );
    return rows.length > 0;
  }

  async isSuppressed(email: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM suppression WHERE email = $1`, [
      email.toLowerCase(),
    ]);
    return rows.length > 0;
  }
}

interface SuppressionRow {
  email: string;
  reason: SuppressionReason;
  note: string | null;
  last_bounce: string | null;
  created_at: Date;
}

function toSuppression(row: SuppressionRow): Suppression {
  return {
    email: row.email,
    reason: row.reason,
    note: row.note,
    lastBounce: row.last_bounce,
    createdAt: row.created_at,
  };
}
