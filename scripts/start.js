// `npm start`: builds when something the build reads changed since the last build (see build.js),
// otherwise starts what is built at once; then runs the service in this process, so Ctrl-C and
// signals reach it directly.
'use strict';
const { join } = require('node:path');
const { build, staleReason } = require('./build');

const root = join(__dirname, '..');
const reason = staleReason(root);
if (reason) {
  process.stdout.write(`Building (${reason})…\n`);
  try {
    build(root);
  } catch {
    // nest build printed why.
    process.exit(1);
  }
}
require(join(root, 'dist', 'src', 'main.js'));
