import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { classify, parseInbound } from '../src/inbound/classify';

/**
 * Out-of-sample check of the inbound classifier (contract A2), run by hand against a maildir that
 * is not in this repository, such as Sisimai's set-of-emails (BSD-2-Clause, not copied here):
 *
 *   npx ts-node scripts/inbound-corpus-report.ts /path/to/set-of-emails/maildir/bsd
 *
 * Its bounces (lhost-*, rhost-*, rfc3464-*, …) should read as BOUNCE or DELAY, its ARF reports
 * (arf-*) as COMPLAINT (a DMARC failure report, by design, as UNRECOGNISED: no complaint), its
 * RFC 3834 auto-replies (rfc3834-*) as AUTO_REPLY. Prints the accuracy of each family and the
 * messages missed; exits 1 when a family is under 90 %, 2 when the directory cannot be read.
 */
const WANT: Record<string, string[]> = { bounce: ['BOUNCE', 'DELAY'], arf: ['COMPLAINT'], rfc3834: ['AUTO_REPLY'] };
const THRESHOLD = 0.9;

interface Tally {
  right: number;
  total: number;
  misses: string[];
}

async function report(dir: string): Promise<Record<string, Tally>> {
  const tally: Record<string, Tally> = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()) {
    const family = /^(arf|rfc3834)-/.exec(file)?.[1] ?? 'bounce';
    const { kind, reason, feedbackType } = classify(await parseInbound(readFileSync(join(dir, file))));
    const entry = (tally[family] ??= { right: 0, total: 0, misses: [] });
    entry.total++;
    if (WANT[family].includes(kind) || feedbackType === 'auth-failure') entry.right++;
    else entry.misses.push(`${file}: ${kind} (${reason ?? 'no reason'})`);
  }
  return tally;
}

async function main(): Promise<number> {
  const dir = process.argv[2];
  if (!dir || !statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    process.stderr.write('Usage: npx ts-node scripts/inbound-corpus-report.ts <maildir of .eml files>\n');
    return 2;
  }
  const tally = await report(dir);
  if (!Object.keys(tally).length) {
    process.stderr.write(`No .eml file in ${dir}\n`);
    return 2;
  }
  let passed = true;
  for (const [family, { right, total, misses }] of Object.entries(tally)) {
    const share = right / total;
    if (share < THRESHOLD) passed = false;
    process.stdout.write(
      `${family}: ${right}/${total} (${(100 * share).toFixed(1)} %) as ${WANT[family].join(' or ')}` +
        `${share < THRESHOLD ? ` — under ${100 * THRESHOLD} %` : ''}\n`,
    );
    for (const miss of misses) process.stdout.write(`  ${miss}\n`);
  }
  return passed ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
