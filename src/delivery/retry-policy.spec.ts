import { nextAttempt } from './retry-policy';
import { DeliveryErrorCode } from '../mails/mail-status';

describe('nextAttempt', () => {
  const policy = { retryBaseSeconds: 30, retryMaxSeconds: 3600, maxAttempts: 10, maxAgeHours: 24 };
  const start = new Date('2027-03-12T10:00:00.000Z');
  const delayAfter = (attempts: number, random: number): number => {
    const decision = nextAttempt(policy, attempts, start, start, () => random);
    if (!decision.retry) throw new Error('expected a retry');
    return (decision.at.getTime() - start.getTime()) / 1000;
  };

  it('starts at the base delay and doubles per attempt', () => {
    expect([1, 2, 3, 4].map((n) => delayAfter(n, 0.5))).toEqual([30, 60, 120, 240]);
  });

  it('spreads retries by ±20 % of the delay', () => {
    expect(delayAfter(1, 0)).toBe(24);
    expect(delayAfter(1, 1)).toBe(36);
  });

  it('never waits longer than the ceiling, jitter included', () => {
    expect(delayAfter(9, 1)).toBe(3600);
  });

  it('gives up with RETRIES_EXHAUSTED once the attempts are spent', () => {
    expect(nextAttempt(policy, 10, start, start)).toEqual({ retry: false, code: DeliveryErrorCode.RETRIES_EXHAUSTED });
  });

  it('gives up with EXPIRED when the next attempt would fall past the age limit', () => {
    const late = new Date(start.getTime() + 23.99 * 3_600_000);
    expect(nextAttempt(policy, 2, start, late, () => 0.5)).toEqual({ retry: false, code: DeliveryErrorCode.EXPIRED });
  });
});
