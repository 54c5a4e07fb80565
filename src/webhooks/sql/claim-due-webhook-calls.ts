import { DataSource } from 'typeorm';

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

/** What the attempt log says of a call whose worker stopped during it (its outcome was never recorded). */
export const LOST_CALL_EXCERPT = 'The worker stopped during this call; taken up again after its lease.';

/**
 * Claims up to `limit` due deliveries of enabled endpoints, in one statement: each becomes SENDING
 * with a lease (a worker that dies leaves it to be taken up again, with the same `webhook-id`) and
 * its attempt number. A delivery taken up so (still SENDING, its lease run out) first gets the
 * attempt its dead worker never settled in the log: FAILED, from its claim (the end of its lease
 * less `leaseSeconds`) until now, as the mail claim closes a lost delivery attempt. The endpoint's
 * failure streak is left alone: the endpoint did not fail. At most `perEndpoint` per endpoint per
 * claim, and none of the endpoints in `busy` (already at their share in this worker), so one slow
 * endpoint never takes every slot. `SKIP LOCKED`: workers never wait on each other nor claim the
 * same delivery.
 */
export async function claimDueWebhookCalls(
  db: DataSource,
  limit: number,
  perEndpoint: number,
  busy: string[],
  leaseSeconds: number,
): Promise<ClaimedWebhook[]> {
  const rows: ClaimRow[] = await db.query(
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
       SELECT d.id, d.endpoint_id, d.status, d.attempts, d.due_at FROM webhook_delivery d
       WHERE d.id IN (SELECT id FROM fair) AND d.status IN ('PENDING', 'SENDING') AND d.due_at <= now()
       FOR UPDATE SKIP LOCKED
     ), lost AS (
       INSERT INTO webhook_attempt (delivery_id, endpoint_id, attempt, status, response_status, duration_ms, response_excerpt, attempted_at)
       SELECT id, endpoint_id, attempts, 'FAILED', NULL,
              greatest(0, round(extract(epoch FROM now() - (due_at - make_interval(secs => $4))) * 1000))::int,
              $5, least(now(), due_at - make_interval(secs => $4))
       FROM due WHERE status = 'SENDING'
     ), claimed AS (
       UPDATE webhook_delivery d SET status = 'SENDING', attempts = d.attempts + 1, due_at = now() + make_interval(secs => $4)
       FROM due WHERE d.id = due.id
       RETURNING d.*
     )
     SELECT c.id, c.endpoint_id, c.event_id, c.type, c.data, c.correlation_id, c.event_at, c.attempts, c.retry_from, w.url, w.secret
     FROM claimed c JOIN webhook_endpoint w ON w.id = c.endpoint_id`,
    [limit, perEndpoint, busy, leaseSeconds, LOST_CALL_EXCERPT],
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
