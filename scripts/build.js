// `npm run build`, and the build of `npm start` when the sources changed: `nest build` (tsc with the
// Swagger CLI plugin, templates copied), then a stamp in dist/ that tells later starts what it was
// built from. Plain JavaScript: it runs before anything is compiled.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, utimesSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const STAMP = join('dist', '.build-stamp');
/** What the build reads: sources and templates, migrations, and what configures the compiler. */
const INPUTS = [
  'src',
  'migrations',
  'package.json',
  'package-lock.json',
  'nest-cli.json',
  'tsconfig.json',
  'tsconfig.build.json',
];

/**
 * Why `root` must be built before it starts, or undefined when dist/ is up to date: a file or a
 * folder (a file added, deleted or renamed changes its folder) modified since the last build began.
 */
function staleReason(root = ROOT) {
  if (!existsSync(join(root, 'dist', 'src', 'main.js'))) return 'nothing built yet';
  if (!existsSync(join(root, STAMP))) return 'no build stamp in dist/';
  const builtAt = statSync(join(root, STAMP)).mtimeMs;
  for (const input of INPUTS) {
    const changed = changedSince(join(root, input), builtAt);
    if (changed) return `${relative(root, changed).split('\\').join('/')} changed`;
  }
  return undefined;
}

/** The first path under `path` (itself included) modified at or after `time` (same time: built from it or not, build again). */
function changedSince(path, time) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return undefined;
  }
  if (stats.mtimeMs >= time) return path;
  if (!stats.isDirectory()) return undefined;
  for (const entry of readdirSync(path)) {
    const changed = changedSince(join(path, entry), time);
    if (changed) return changed;
  }
  return undefined;
}

/** `nest build`, then the stamp, dated when the build began: a file saved during the build is newer. */
function build(root = ROOT) {
  const began = new Date();
  const nest = require.resolve('@nestjs/cli/bin/nest.js', { paths: [root] });
  execFileSync(process.execPath, [nest, 'build'], { cwd: root, stdio: 'inherit' });
  const stamp = join(root, STAMP);
  writeFileSync(stamp, `built by scripts/build.js from the sources as they were at ${began.toISOString()}\n`);
  utimesSync(stamp, began, began);
}

module.exports = { build, staleReason };

if (require.main === module) {
  try {
    build();
  } catch {
    // nest build printed why.
    process.exit(1);
  }
}
