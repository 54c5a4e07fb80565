/**
 * Finished webhook deliveries of events older than 30 days, with their attempt log (ON DELETE
 * CASCADE): the delivery log's reach. Index webhook_delivery_finished_idx finds them. `$1`: the
 * most deliveries one statement deletes.
 */
export const DELETE_OLD_WEBHOOK_CALLS = `
  WITH gone AS (
    DELETE FROM webhook_delivery WHERE id IN (
      SELECT id FROM webhook_delivery WHERE status IN ('SUCCEEDED', 'FAILED') AND event_at < now() - interval '30 days'
      LIMIT $1 FOR UPDATE SKIP LOCKED
    ) RETURNING 1
  ) SELECT count(*)::int AS n FROM gone`;
