import { WEBHOOK_RETRY_SCHEDULE } from '../config/app.config';
import { nextWebhookAttempt } from './webhook-retry';

describe('webhook retry schedule', () => {
  const start = new Date('2027-03-01T00:00:00.000Z');

  it('follows 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h, and stops after 3 days', () => {
    const waits: number[] = [];
    let now = start;
    for (let attempt = 1; ; attempt++) {
      const next = nextWebhookAttempt(WEBHOOK_RETRY_SCHEDULE, attempt, start, 72, now);
      if (!next) break;
      waits.push((next.getTime() - now.getTime()) / 1000);
      now = next;
    }
    expect(waits.slice(0, 7)).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(waits.slice(6).every((wait) => wait === 36000)).toBe(true);
    // The last try falls within the 3 days, the one after would not.
    expect(now.getTime() - start.getTime()).toBeLessThanOrEqual(72 * 3_600_000);
    expect(now.getTime() + 36_000_000 - start.getTime()).toBeGreaterThan(72 * 3_600_000);
  });
});
