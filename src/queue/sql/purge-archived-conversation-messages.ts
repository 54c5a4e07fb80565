/**
 * Messages of conversations ARCHIVED for longer than `$2` days (CONVERSATION_RETENTION_DAYS; 0
 * keeps them for ever): their content becomes '' (an archived conversation no longer changes, so
 * its `updated_at` is when it was archived). Messages already emptied are skipped. `$1`: the most
 * messages one statement empties; answers `n`, how many it emptied.
 */
export const PURGE_ARCHIVED_CONVERSATION_MESSAGES = `
  WITH due AS (
    SELECT cm.id FROM conversation c JOIN conversation_message cm ON cm.conversation_id = c.id
    WHERE $2::int > 0 AND c.status = 'ARCHIVED' AND c.updated_at < now() - make_interval(days => $2::int)
      AND cm.content <> ''
    LIMIT $1 FOR UPDATE OF cm SKIP LOCKED
  ), emptied AS (
    UPDATE conversation_message cm SET content = '' FROM due WHERE cm.id = due.id RETURNING 1
  ) SELECT count(*)::int AS n FROM emptied`;
