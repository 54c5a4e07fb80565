import { writeFileSync } from 'node:fs';
import { compileLayout, LAYOUT_HTML } from '../src/delivery/templates/compile-layout';

/** `npm run templates`: writes src/delivery/templates/layout.html.hbs from layout.mjml (a test fails when they drift). */
writeFileSync(LAYOUT_HTML, compileLayout());
process.stdout.write(`Wrote ${LAYOUT_HTML}\n`);
