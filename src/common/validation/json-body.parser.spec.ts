import { jsonDepthExceeds } from './json-body.parser';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('jsonDepthExceeds', () => {
  it('allows 32 levels and refuses 33', () => {
    expect(jsonDepthExceeds(nested(32))).toBe(false);
    expect(jsonDepthExceeds(nested(33))).toBe(true);
  });

  it('handles 10,000 levels without recursion', () => {
    expect(jsonDepthExceeds(nested(10_000))).toBe(true);
  });

  it('counts brackets in strings, escaped quotes included, as text', () => {
    expect(jsonDepthExceeds(JSON.stringify({ text: '['.repeat(100) }))).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ text: `say \\"${'{'.repeat(100)}\\"` }))).toBe(false);
  });

  it('counts siblings once, not their sum', () => {
    expect(jsonDepthExceeds(JSON.stringify(Array.from({ length: 1000 }, () => ({ a: [1] }))))).toBe(false);
  });
});
