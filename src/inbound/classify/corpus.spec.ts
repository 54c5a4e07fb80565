import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify, isHardBounce, parseInbound } from './index';

/**
 * The corpus of test/fixtures/inbound (README there): every message is parsed and classified and
 * compared with expected.json, after its placeholders are given sample values.
 */
interface Expected {
  kind: string;
  recipients?: Array<{ recipient: string; action: string; status: string }>;
  hardBounce?: boolean;
  originalMessageId?: string;
  originalMailId?: string;
  complaint?: true;
  complainedAddress?: string;
  replyText?: string;
  fromStranger?: true;
  note: string;
}

const DIR = join(__dirname, '../../../test/fixtures/inbound');
const SAMPLE: Record<string, string> = {
  '%BOUNCE_ADDRESS%': 'bounces+0b9f6c2e5d1a4c3e9f7a2b8d4e6f1a3c51e0d2b9a8c7f6e5d4c3@inbound.example.com',
  '%REPLY_ADDRESS%': 'reply+0b9f6c2e5d1a4c3e9f7a2b8d4e6f1a3c0a1b2c3d4e5f60718293@inbound.example.com',
  '%RECIPIENT%': 'claire.martin@destination.example',
  '%MESSAGE_ID%': '<0b9f6c2e-5d1a-4c3e-9f7a-2b8d4e6f1a3c@voyages.example>',
  '%MAIL_ID%': '5e0c1f7a-2b3d-4e8f-9a6b-7c1d2e3f4a5b',
  '%STRANGER%': 'paul.girard@elsewhere.example',
};
const substitute = (text: string) => Object.entries(SAMPLE).reduce((t, [key, value]) => t.split(key).join(value), text);

const expected: Record<string, Expected> = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
const files = readdirSync(DIR)
  .filter((file) => file.endsWith('.eml'))
  .sort();
const outcomes = new Map<string, boolean>();

describe('inbound corpus', () => {
  afterAll(() => {
    const right = [...outcomes.values()].filter(Boolean).length;
    const percent = ((100 * right) / Math.max(outcomes.size, 1)).toFixed(1);
    process.stdout.write(`Inbound classification accuracy: ${right}/${outcomes.size} messages (${percent} %)\n`);
  });

  it('has an expectation for every message, at least 32 messages, each addressed to one of our addresses', () => {
    expect(Object.keys(expected).sort()).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(32);
    for (const file of files) expect(readFileSync(join(DIR, file), 'utf8')).toMatch(/^To:.*%(BOUNCE|REPLY)_ADDRESS%/m);
  });

  it.each(files)('%s', async (file) => {
    const want = expected[file];
    const parsed = await parseInbound(Buffer.from(substitute(readFileSync(join(DIR, file), 'utf8'))));
    const got = classify(parsed);
    const problems: string[] = [];
    const check = (what: string, actual: unknown, wanted: unknown) => {
      if (JSON.stringify(actual) !== JSON.stringify(wanted))
        problems.push(`${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(wanted)}`);
    };
    check('kind', got.kind, want.kind);
    if (want.recipients) {
      const recipients = got.recipients.map(({ recipient, action, status }) => ({ recipient, action, status }));
      check(
        'recipients',
        recipients,
        want.recipients.map((r) => ({ ...r, recipient: substitute(r.recipient) })),
      );
    }
    if (want.hardBounce !== undefined) {
      const failed = got.recipients.find((r) => r.action === 'failed');
      check('hard bounce', !!failed && isHardBounce(failed.status ?? '5.0.0'), want.hardBounce);
    }
    if (want.originalMessageId) check('original Message-ID', got.originalMessageId, substitute(want.originalMessageId));
    if (want.originalMailId) check('original X-Mail-Id', got.originalMailId, substitute(want.originalMailId));
    if (want.complaint) check('complained address', got.complainedAddress, substitute(want.complainedAddress ?? ''));
    if (want.replyText !== undefined) check('reply text', got.replyText, want.replyText);
    if (want.kind === 'REPLY' || want.kind === 'AUTO_REPLY')
      check('sender', parsed.from, want.fromStranger ? SAMPLE['%STRANGER%'] : SAMPLE['%RECIPIENT%']);
    if (want.kind === 'UNRECOGNISED' || want.kind === 'AUTO_REPLY') check('has a reason', !!got.reason, true);
    outcomes.set(file, problems.length === 0);
    expect(problems).toEqual([]);
  });
});
