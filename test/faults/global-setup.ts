import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_DIR } from './service-process';

/**
 * The fault tests run the service as it runs in production, `node dist/src/main.js`, so it is
 * built once here. FAULTS_SKIP_BUILD=1 reuses an existing dist/ (quicker when iterating on a test).
 */
export default function globalSetup(): void {
  // The service logs of this run only.
  rmSync(LOG_DIR, { recursive: true, force: true });
  const root = join(__dirname, '..', '..');
  if (process.env.FAULTS_SKIP_BUILD === '1' && existsSync(join(root, 'dist', 'src', 'main.js'))) return;
  execFileSync(process.execPath, [join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build'], { cwd: root, stdio: 'inherit' });
}
