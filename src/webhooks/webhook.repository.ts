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

/** A delivery a worker claimed: one event for one endpoint, with what the call needs. */
export interface ClaimedWebhook {
  id: string;
  endpointId: string;
  eventId: string;
  type: string;
  data: unknown;
  correlationId: string | null;
  eventAt: Date;
  attempt: number;
  retryFrom: Date;
  url: string;
  secret: string;
}

/** How an attempt ended; `dueAt` null with FAILED: the delivery is given up. */
export interface WebhookOutcome {
  id: string;
  attempt: number;
  succeeded: boolean;
  /** PENDING (retry at dueAt), SUCCEEDED or FAILED. */
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  dueAt: Date | null;
  responseStatus: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  attemptedAt: Date;
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

/** Named queries of webhook endpoints, their deliveries and the attempt log. */
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
      [endpoint.id, endpoint.url, endpoint.events, endpoint.description, endpoint.enabled, endpoint.secret, endpoint.createdAt],
    );
  }

  async findById(id: string): Promise<WebhookEndpoint | null> {
    const rows: EndpointRow[] = await this.dataSource.query(`SELECT * FROM webhook_endpoint WHERE id = $1`, [id]);
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  async findPage(currentPage: number, sizePage: number): Promise<{ rows: WebhookEndpoint[]; total: number }> {
    const [rows, [{ total }]]: [EndpointRow[], Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(`SELECT * FROM webhook_endpoint ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`, [sizePage, (currentPage - 1) * sizePage]),
      this.dataSource.query(`SELECT count(*)::int AS total FROM webhook_endpoint`),
    ]);
    return { rows: rows.map(toEndpoint), total };
  }

  /** Writes the changed fields; enabling again clears the failure streak. Null when it does not exist. */
  async update(id: string, change: { url?: string; events?: string[]; description?: string | null; enabled?: boolean }): Promise<WebhookEndpoint | null> {
    const rows: EndpointRow[] = await this.dataSource.query(
      `UPDATE webhook_endpoint SET url = coalesce($2, url), events = coalesce($3, events),
         description = CASE WHEN $4::boolean THEN $5 ELSE description END,
         enabled = coalesce($6, enabled),
         failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
         disabled_reason = CASE WHEN $6 IS NOT NULL THEN NULL ELSE disabled_reason END,
         updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, change.url ?? null, change.events ?? null, change.description !== undefined, change.description ?? null, change.enabled ?? null],
    ).then((result: [EndpointRow[], number]) => result[0]);
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  async delete(id: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`WITH gone AS (DELETE FROM webhook_endpoint WHERE id = $1 RETURNING 1) SELECT * FROM gone`, [id]);
    return rows.length > 0;
  }

  /**
   * Claims up to `limit` due deliveries of enabled endpoints, in one statement: each becomes
   * SENDING with a lease (a worker that dies leaves it to be taken up again, with the same
   * `webhook-id`). At most `perEndpoint` per endpoint per claim, and none of the endpoints in
   * `busy` (already at their share in this worker), so one slow endpoint never takes every slot.
   * `SKIP LOCKED`: workers never wait on each other nor claim the same delivery.
   */
  async claimDue(limit: number, perEndpoint: number, busy: string[], leaseSeconds: number): Promise<ClaimedWebhook[]> {
    const rows: ClaimRow[] = await this.dataSource.query(
      `WITH candidates AS (
         SELECT d.id, d.endpoint_id, d.due_at FROM webhook_delivery d
         WHERE d.status IN ('PENDING', 'SENDING') AND d.due_at <= now() AND NOT d.endpoint_id = ANY ($3::uuid[])
           AND EXISTS (SELECT 1 FROM webhook_endpoint w WHERE w.id = d.endpoint_id AND w.enabled)
         ORDER BY d.due_at
         LIMIT $1 * 4
       ), fair AS (
         SELECT id FROM (SELECT id, due_at, row_number() OVER (PARTITION BY endpoint_id ORDER BY due_at) AS n FROM candidates) c
         WHERE n <= $2 ORDER BY due_at LIMIT $1
       ), due AS (
         SELECT d.id FROM webhook_delivery d
         WHERE d.id IN (SELECT id FROM fair) AND d.status IN ('PENDING', 'SENDING') AND d.due_at <= now()
         FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE webhook_delivery d SET status = 'SENDING', attempts = d.attempts + 1, due_at = now() + make_interval(secs => $4)
         FROM due WHERE d.id = due.id
         RETURNING d.*
       )
       SELECT c.id, c.endpoint_id, c.event_id, c.type, c.data, c.correlation_id, c.event_at, c.attempts, c.retry_from, w.url, w.secret
       FROM claimed c JOIN webhook_endpoint w ON w.id = c.endpoint_id`,
      [limit, perEndpoint, busy, leaseSeconds],
    );
    return rows.map((row) => ({
      id: row.id,
      endpointId: row.endpoint_id,
      eventId: String(row.event_id),
      type: row.type,
      data: row.data,
      correlationId: row.correlation_id,
      eventAt: row.event_at,
      attempt: row.attempts,
      retryFrom: row.retry_from,
      url: row.url,
      secret: row.secret,
    }));
  }

  /**
   * Records many attempts in one statement: each delivery (only if it is still that attempt's
   * claim), its log row, and its endpoint's failure streak. An endpoint that has failed without a
   * single success for `disableAfterHours` is disabled.
   */
  async settle(outcomes: WebhookOutcome[], disableAfterHours: number): Promise<void> {
    const o = outcomes;
    await this.dataSource.query(
      `WITH o AS (
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::timestamptz[], $9::boolean[])
           AS o (id, attempt, status, due_at, response_status, duration_ms, response_excerpt, attempted_at, succeeded)
       ), settled AS (
         UPDATE webhook_delivery d SET status = o.status, due_at = coalesce(o.due_at, d.due_at)
         FROM o WHERE d.id = o.id AND d.status = 'SENDING' AND d.attempts = o.attempt
         RETURNING d.id, d.endpoint_id
       ), logged AS (
         INSERT INTO webhook_attempt (delivery_id, endpoint_id, attempt, status, response_status, duration_ms, response_excerpt, attempted_at)
         SELECT o.id, s.endpoint_id, o.attempt, CASE WHEN o.succeeded THEN 'SUCCEEDED' ELSE 'FAILED' END, o.response_status, o.duration_ms, o.response_excerpt, o.attempted_at
         FROM o JOIN settled s ON s.id = o.id
       ), per_endpoint AS (
         SELECT s.endpoint_id, bool_or(o.succeeded) AS any_success, min(o.attempted_at) AS first_failure
         FROM settled s JOIN o ON o.id = s.id GROUP BY s.endpoint_id
       )
       UPDATE webhook_endpoint w SET
         failing_since = CASE WHEN p.any_success THEN NULL ELSE coalesce(w.failing_since, p.first_failure) END,
         enabled = w.enabled AND (p.any_success OR coalesce(w.failing_since, p.first_failure) > now() - make_interval(hours => $10)),
         disabled_reason = CASE WHEN NOT p.any_success AND coalesce(w.failing_since, p.first_failure) <= now() - make_interval(hours => $10)
           THEN 'Every call failed for ' || $10 || ' hours.' ELSE w.disabled_reason END
       FROM per_endpoint p WHERE w.id = p.endpoint_id`,
      [
        o.map((x) => x.id),
        o.map((x) => x.attempt),
        o.map((x) => x.status),
        o.map((x) => x.dueAt),
        o.map((x) => x.responseStatus),
        o.map((x) => x.durationMs),
        o.map((x) => x.responseExcerpt),
        o.map((x) => x.attemptedAt),
        o.map((x) => x.succeeded),
        disableAfterHours,
      ],
    );
  }

  /** The attempt log of an endpoint, newest first. */
  async findAttempts(endpointId: string, status: string | undefined, currentPage: number, sizePage: number): Promise<{ rows: WebhookAttemptRow[]; total: number }> {
    const filter = status ? 'AND a.status = $2' : '';
    const params: unknown[] = status ? [endpointId, status] : [endpointId];
    const [rows, [{ total }]]: [AttemptRow[], Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(
        `SELECT a.id, d.event_id, d.type, a.attempt, a.status, a.response_status, a.duration_ms, a.response_excerpt, a.attempted_at
         FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id
         WHERE a.endpoint_id = $1 ${filter} ORDER BY a.attempted_at DESC, a.id DESC LIMIT ${sizePage} OFFSET ${(currentPage - 1) * sizePage}`,
        params,
      ),
      this.dataSource.query(`SELECT count(*)::int AS total FROM webhook_attempt a WHERE a.endpoint_id = $1 ${filter}`, params),
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

  /** Deletes finished deliveries (with their attempt log) of events older than `days`; returns how many. */
  async deleteFinished(days: number): Promise<number> {
    const rows: Array<{ n: number }> = await this.dataSource.query(
      `WITH gone AS (
         DELETE FROM webhook_delivery WHERE status IN ('SUCCEEDED', 'FAILED') AND event_at < now() - make_interval(days => $1) RETURNING 1
       ) SELECT count(*)::int AS n FROM gone`,
      [days],
    );
    return rows[0].n;
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

interface ClaimRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  data: unknown;
  correlation_id: string | null;
  event_at: Date;
  attempts: number;
  retry_from: Date;
  url: string;
  secret: string;
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
