import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  /** As stored: sealed when WEBHOOK_SECRET_KEY is set. */
  secret: string;
  failingSince: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookAttemptRow {
  id: string;
  eventId: string;
  type: string;
  attempt: number;
  status: 'SUCCEEDED' | 'FAILED';
  responseStatus: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  attemptedAt: Date;
}

/** Named queries of webhook endpoints and their attempt log; the queue's claim and settle are in sql/. */
@Injectable()
export class WebhookRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** In `manager`'s transaction (the one that stores the Idempotency-Key's answer). */
  async insert(endpoint: WebhookEndpoint, manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO webhook_endpoint (id, url, events, description, enabled, secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [
        endpoint.id,
        endpoint.url,
        endpoint.events,
        endpoint.description,
        endpoint.enabled,
        endpoint.secret,
        endpoint.createdAt,
      ],
    );
  }

  async findById(id: string): Promise<WebhookEndpoint | null> {
    const rows: EndpointRow[] = await this.dataSource.query(`SELECT * FROM webhook_endpoint WHERE id = $1`, [id]);
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  async findPage(currentPage: number, sizePage: number): Promise<{ rows: WebhookEndpoint[]; total: number }> {
    const [rows, [{ total }]]: [EndpointRow[], Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(`SELECT * FROM webhook_endpoint ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`, [
        sizePage,
        (currentPage - 1) * sizePage,
      ]),
      this.dataSource.query(`SELECT count(*)::int AS total FROM webhook_endpoint`),
    ]);
    return { rows: rows.map(toEndpoint), total };
  }

  /** Writes the changed fields; enabling again clears the failure streak. Null when it does not exist. */
  async update(
    id: string,
    change: { url?: string; events?: string[]; description?: string | null; enabled?: boolean },
  ): Promise<WebhookEndpoint | null> {
    const rows: EndpointRow[] = await this.dataSource
      .query(
        `UPDATE webhook_endpoint SET url = coalesce($2, url), events = coalesce($3, events),
         description = CASE WHEN $4::boolean THEN $5 ELSE description END,
         enabled = coalesce($6, enabled),
         failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
         disabled_reason = CASE WHEN $6 IS NOT NULL THEN NULL ELSE disabled_reason END,
         updated_at = now()
       WHERE id = $1 RETURNING *`,
        [
          id,
          change.url ?? null,
          change.events ?? null,
          change.description !== undefined,
          change.description ?? null,
          change.enabled ?? null,
        ],
      )
      .then((result: [EndpointRow[], number]) => result[0]);
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  async delete(id: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM webhook_endpoint WHERE id = $1 RETURNING 1) SELECT * FROM gone`,
      [id],
    );
    return rows.length > 0;
  }

  /** The attempt log of an endpoint, newest first. */
  async findAttempts(
    endpointId: string,
    status: string | undefined,
    currentPage: number,
    sizePage: number,
  ): Promise<{ rows: WebhookAttemptRow[]; total: number }> {
    const filter = status ? 'AND a.status = $2' : '';
    const params: unknown[] = status ? [endpointId, status] : [endpointId];
    const [rows, [{ total }]]: [AttemptRow[], Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(
        `SELECT a.id, d.event_id, d.type, a.attempt, a.status, a.response_status, a.duration_ms, a.response_excerpt, a.attempted_at
         FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id
         WHERE a.endpoint_id = $1 ${filter} ORDER BY a.attempted_at DESC, a.id DESC LIMIT ${sizePage} OFFSET ${(currentPage - 1) * sizePage}`,
        params,
      ),
      this.dataSource.query(
        `SELECT count(*)::int AS total FROM webhook_attempt a WHERE a.endpoint_id = $1 ${filter}`,
        params,
      ),
    ]);
    return {
      total,
      rows: rows.map((row) => ({
        id: row.id,
        eventId: String(row.event_id),
        type: row.type,
        attempt: row.attempt,
        status: row.status,
        responseStatus: row.response_status,
        durationMs: row.duration_ms,
        responseExcerpt: row.response_excerpt,
        attemptedAt: row.attempted_at,
      })),
    };
  }

  /**
   * Sends the event of attempt `attemptId` again, now, with a fresh retry window (same delivery,
   * so the same `webhook-id`). False when the endpoint has no such attempt. A delivery being sent
   * right now is left to its call. In `manager`'s transaction (the one that stores the
   * Idempotency-Key's answer).
   */
  async redeliver(endpointId: string, attemptId: string, manager: EntityManager): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `WITH target AS (
         SELECT delivery_id FROM webhook_attempt WHERE id = $2 AND endpoint_id = $1
       ), queued AS (
         UPDATE webhook_delivery d SET status = 'PENDING', due_at = now(), retry_from = now()
         FROM target t WHERE d.id = t.delivery_id AND d.status <> 'SENDING'
       )
       SELECT 1 FROM target`,
      [endpointId, attemptId],
    );
    return rows.length > 0;
  }
}

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  secret: string;
  failing_since: Date | null;
  disabled_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

interface AttemptRow {
  id: string;
  event_id: string;
  type: string;
  attempt: number;
  status: 'SUCCEEDED' | 'FAILED';
  response_status: number | null;
  duration_ms: number;
  response_excerpt: string | null;
  attempted_at: Date;
}

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    secret: row.secret,
    failingSince: row.failing_since,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
