import mjml2html from 'mjml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const LAYOUT_MJML = join(__dirname, 'layout.mjml');
/** The layout compiled to HTML, committed: MJML costs ~10 ms a compile and ~40 MB of modules, so it never runs in the service. */
export const LAYOUT_HTML = join(__dirname, 'layout.html.hbs');

/** The HTML of layout.mjml (a Handlebars template), as `npm run templates` writes it to layout.html.hbs. */
export function compileLayout(): string {
  // mjml 4 compiles synchronously (its published types describe mjml 5's promise).
  const { html } = mjml2html(readFileSync(LAYOUT_MJML, 'utf8'), {
    validationLevel: 'strict',
    minify: false,
  }) as unknown as { html: string };
  return `${html.trim()}\n`;
}
