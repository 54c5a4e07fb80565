import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The fault tests run the service as it runs in production, `node dist/src/main.js`, so it is
 * built once here. FAULTS_SKIP_BUILD=1 reuses an existing dist/ (quicker when iterating on a test).
 */
export default function globalSetup(): void {
  // The service logs of this run, in a folder of its own (named in each failure); the test files read it from the environment.
  process.env.FAULTS_LOG_DIR = mkdtempSync(join(tmpdir(), 'communication-faults-logs-'));
  process.stdout.write(`\nService logs of this run: ${process.env.FAULTS_LOG_DIR}\n`);
  const root = join(__dirname, '..', '..');
  if (process.env.FAULTS_SKIP_BUILD === '1' && existsSync(join(root, 'dist', 'src', 'main.js'))) return;
  execFileSync(process.execPath, [join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
}
