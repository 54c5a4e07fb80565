import { DeliveryConfig } from '../config/app.config';
import { DeliveryErrorCode } from '../mails/mail-status';

export type RetryDecision =
  { retry: true; at: Date } | { retry: false; code: DeliveryErrorCode.RETRIES_EXHAUSTED | DeliveryErrorCode.EXPIRED };

/**
 * After a temporary failure: when to try again (exponential backoff from the base, doubling, capped,
 * with ±20 % jitter so that deliveries failed together do not return together), or that the
 * delivery has had its attempts (`attemptsMade` since its budget began) or its age.
 */
export function nextAttempt(
  policy: Pick<DeliveryConfig, 'retryBaseSeconds' | 'retryMaxSeconds' | 'maxAttempts' | 'maxAgeHours'>,
  attemptsMade: number,
  firstDueAt: Date,
  now: Date,
  random: () => number = Math.random,
): RetryDecision {
  if (attemptsMade >= policy.maxAttempts) return { retry: false, code: DeliveryErrorCode.RETRIES_EXHAUSTED };
  const exponential = policy.retryBaseSeconds * 2 ** Math.min(attemptsMade - 1, 30);
  const delay = Math.min(policy.retryMaxSeconds, exponential * (0.8 + 0.4 * random()));
  const at = new Date(now.getTime() + delay * 1000);
  if (at.getTime() > firstDueAt.getTime() + policy.maxAgeHours * 3_600_000)
    return { retry: false, code: DeliveryErrorCode.EXPIRED };
  return { retry: true, at };
}
