/**
 * Mails older than their category's retention (`category_retention.days`, else `$2`:
 * MAIL_RETENTION_DAYS; 0 keeps them for ever), finished (neither PENDING nor SCHEDULED) and not yet
 * purged, oldest first through the partial index on the unpurged ones. Their personal data go:
 * the variables, the Reply-To and the link to the contact message the mail quoted; the address,
 * error text and SMTP reply of every delivery; the SMTP reply of every attempt. Ids, category,
 * statuses, counters and dates stay, and `purged_at` says when. `$1`: the most mails one statement
 * purges; answers `n`, how many it purged.
 */
export const PURGE_EXPIRED_MAILS = `
  WITH due AS (
    SELECT m.id FROM mail m LEFT JOIN category_retention r ON r.category = m.category
    WHERE m.purged_at IS NULL AND m.status NOT IN ('PENDING', 'SCHEDULED')
      AND COALESCE(r.days, $2::int) > 0
      AND m.created_at < now() - make_interval(days => COALESCE(r.days, $2::int))
    ORDER BY m.created_at LIMIT $1 FOR UPDATE OF m SKIP LOCKED
  ), attempts AS (
    UPDATE delivery_attempt a SET smtp_response = NULL
    FROM delivery d JOIN due ON due.id = d.mail_id
    WHERE a.delivery_id = d.id AND a.smtp_response IS NOT NULL
  ), deliveries AS (
    UPDATE delivery d SET email = NULL, error = NULL, smtp_response = NULL
    FROM due WHERE d.mail_id = due.id
  ), purged AS (
    UPDATE mail m SET variables = '{}', reply_to = NULL, contact_message_id = NULL, purged_at = now()
    FROM due WHERE m.id = due.id RETURNING 1
  ) SELECT count(*)::int AS n FROM purged`;
