import { ConfigError } from './config/env.reader';
import { DataDirectoryInUse } from './database/embedded-postgres';

/** Why the start failed, as a person needs it: one line per problem, naming what to change. */
export function startFailure(error: unknown): string {
  if (error instanceof ConfigError)
    return error.problems.map((problem) => `communication did not start: ${problem}`).join('\n');
  if (error instanceof DataDirectoryInUse) {
    const held = `(held by process ${error.pid}, see its postmaster.pid): is another \`npm start\` of this checkout running?`;
    return error.portInUse === undefined
      ? `communication did not start: the embedded Postgres's data directory ${error.dataDir} is in use ${held} Stop it, or set DATABASE_URL to use another Postgres`
      : `communication did not start: port ${error.portInUse} is already in use, and so is the embedded Postgres's data directory ${error.dataDir} ${held} Stop it, or set PORT and DATABASE_URL`;
  }
  if (typeof error !== 'object' || error === null)
    return `communication did not start: ${String(error ?? 'an unknown error (nothing was thrown with it)')}`;
  const { code, port, message, stack } = error as NodeJS.ErrnoException & { port?: number };
  if (code === 'EADDRINUSE')
    return `communication did not start: port ${port ?? '(PORT)'} is already in use; stop what listens there or set PORT to a free port`;
  if (code === 'EACCES' && port !== undefined)
    return `communication did not start: port ${port} needs privileges; set PORT to a port above 1023`;
  return `communication did not start: ${message ?? String(error)}\n${stack ?? ''}`.trimEnd();
}
