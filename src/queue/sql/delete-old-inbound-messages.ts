/**
 * Inbound messages (raw bytes and what they became) older than INBOUND_RETENTION_DAYS, oldest
 * first through their list index. `$1`: the most rows one statement deletes; `$2`: the days.
 */
export const DELETE_OLD_INBOUND_MESSAGES = `
  WITH gone AS (
    DELETE FROM inbound_message WHERE id IN (
      SELECT id FROM inbound_message WHERE received_at < now() - make_interval(days => $2::int)
      ORDER BY received_at LIMIT $1 FOR UPDATE SKIP LOCKED
    ) RETURNING 1
  ) SELECT count(*)::int AS n FROM gone`;
