/**
 * Events older than the 24 h that `Last-Event-ID` replays (EVENT_RETENTION_HOURS); their webhook
 * deliveries keep their own copy. `$1`: the most rows one statement deletes.
 */
export const DELETE_OLD_EVENTS = `
  WITH gone AS (
    DELETE FROM event WHERE id IN (
      SELECT id FROM event WHERE created_at < now() - interval '24 hours' LIMIT $1 FOR UPDATE SKIP LOCKED
    ) RETURNING 1
  ) SELECT count(*)::int AS n FROM gone`;
