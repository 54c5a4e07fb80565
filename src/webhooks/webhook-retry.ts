/**
 * When a failed call is tried again: the schedule's wait for this attempt (the last wait repeats),
 * or null once the next try would fall past `maxAgeHours` after the delivery's first try.
 */
export function nextWebhookAttempt(
  schedule: number[],
  failedAttempt: number,
  retryFrom: Date,
  maxAgeHours: number,
  now: Date,
): Date | null {
  const wait = schedule[Math.min(failedAttempt, schedule.length) - 1];
  const at = new Date(now.getTime() + wait * 1000);
  return at.getTime() - retryFrom.getTime() > maxAgeHours * 3_600_000 ? null : at;
}
