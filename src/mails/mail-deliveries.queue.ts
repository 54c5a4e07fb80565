/**
 * The queue of mail deliveries: the `delivery` rows the API side writes with their mail, worked by
 * delivery/mail-delivery.worker.ts (LISTEN channel `queue_mail_deliveries`). Whoever commits new
 * deliveries nudges it (MailWriter.nudge), so the workers of every process look at once.
 */
export const MAIL_DELIVERIES = 'mail_deliveries';
