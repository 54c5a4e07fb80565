/**
 * Rate-limit counters whose window ended over a minute ago (`expire` is in milliseconds since the
 * epoch, as rate-limiter-flexible writes it); a counter still counting is never touched. `$1`: the
 * most rows one statement deletes.
 */
export const DELETE_EXPIRED_RATE_LIMITS = `
  WITH gone AS (
    DELETE FROM rate_limit WHERE key IN (
      SELECT key FROM rate_limit WHERE expire < (extract(epoch FROM now()) * 1000)::bigint - 60000
      LIMIT $1 FOR UPDATE SKIP LOCKED
    ) RETURNING 1
  ) SELECT count(*)::int AS n FROM gone`;
