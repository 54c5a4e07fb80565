/**
 * The outbox event of a mail that reached a final status (SQL, on a `status` column), and those
 * statuses: written by the statements that end a mail, the cancellation (MailCommands) and the
 * settle of its deliveries (delivery/sql/settle-deliveries.ts).
 */
export const MAIL_FINAL_EVENT = `CASE status WHEN 'FAILED' THEN 'mail.failed' WHEN 'CANCELLED' THEN 'mail.cancelled' ELSE 'mail.sent' END`;
export const MAIL_FINAL_STATUSES = `('SENT', 'PARTIALLY_SENT', 'FAILED', 'CANCELLED')`;
