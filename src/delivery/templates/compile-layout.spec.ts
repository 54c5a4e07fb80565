import { readFileSync } from 'node:fs';
import { compileLayout, LAYOUT_HTML } from './compile-layout';

describe('the committed HTML layout', () => {
  it('is layout.mjml compiled (run `npm run templates` after changing layout.mjml)', () => {
    expect(readFileSync(LAYOUT_HTML, 'utf8')).toBe(compileLayout());
  });
});
