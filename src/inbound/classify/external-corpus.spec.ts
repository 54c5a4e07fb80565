import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify, parseInbound } from './index';

/**
 * Out-of-sample check, run by hand against Sisimai's set-of-emails (BSD-2-Clause, not copied
 * here): SISIMAI_MAILDIR=/path/to/set-of-emails/maildir/bsd npx jest --config jest.unit.config.js
 * external-corpus. Its bounces (lhost-*, rhost-*, rfc3464-*) should read as BOUNCE or DELAY, its
 * ARF reports as COMPLAINT (a DMARC failure report, by design, as UNRECOGNISED), its RFC 3834
 * auto-replies as AUTO_REPLY.
 */
const DIR = process.env.SISIMAI_MAILDIR;

(DIR ? describe : describe.skip)('Sisimai set-of-emails', () => {
  it('classifies at least 90 % of each family as expected', async () => {
    const want: Record<string, string[]> = { bounce: ['BOUNCE', 'DELAY'], arf: ['COMPLAINT'], rfc3834: ['AUTO_REPLY'] };
    const tally: Record<string, { right: number; total: number; misses: string[] }> = {};
    for (const file of readdirSync(DIR!).filter((f) => f.endsWith('.eml'))) {
      const family = /^(arf|rfc3834)-/.exec(file)?.[1] ?? 'bounce';
      const { kind, reason, feedbackType } = classify(await parseInbound(readFileSync(join(DIR!, file))));
      const entry = (tally[family] ??= { right: 0, total: 0, misses: [] });
      entry.total++;
      if (want[family].includes(kind) || feedbackType === 'auth-failure') entry.right++;
      else entry.misses.push(`${file}: ${kind} (${reason ?? 'no reason'})`);
    }
    for (const [family, { right, total, misses }] of Object.entries(tally))
      process.stdout.write(`${family}: ${right}/${total}\n  ${misses.join('\n  ')}\n`);
    for (const { right, total } of Object.values(tally)) expect(right / total).toBeGreaterThanOrEqual(0.9);
  });
});
