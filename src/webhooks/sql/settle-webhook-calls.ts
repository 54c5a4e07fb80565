import { DataSource } from 'typeorm';

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

/**
 * Records many attempts in one statement: each delivery (only if it is still that attempt's claim:
 * the settle of an attempt whose lease ran out changes nothing), its log row, and its endpoint's
 * failure streak. An endpoint that has failed without a single success for `disableAfterHours` is
 * disabled.
 */
export async function settleWebhookCalls(
  db: DataSource,
  outcomes: WebhookOutcome[],
  disableAfterHours: number,
): Promise<void> {
  const o = outcomes;
  await db.query(
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
