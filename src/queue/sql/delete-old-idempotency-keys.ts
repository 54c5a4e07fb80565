/**
 * Idempotency keys past their 24 hours (IdempotencyRepository finds a key only younger than that,
 * and lets a request reuse an older one): their rows hold whole answers. `$1`: the most rows one
 * statement deletes.
 */
export const DELETE_OLD_IDEMPOTENCY_KEYS = `
  WITH gone AS (
    DELETE FROM idempotency_key WHERE ctid = ANY (ARRAY(
      SELECT ctid FROM idempotency_key WHERE created_at <= now() - interval '24 hours' LIMIT $1 FOR UPDATE SKIP LOCKED
    )) RETURNING 1
  ) SELECT count(*)::int AS n FROM gone`;
