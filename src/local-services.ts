import { join } from 'node:path';
import { Env } from './config/env.reader';
import { freePort, startEmbeddedPostgres } from './database/embedded-postgres';
import { SmtpInbox } from './delivery/smtp-inbox';

export interface LocalServices {
  /** Variables to add to the environment (DATABASE_URL, SMTP_URL) for what was started. */
  env: Env;
  banner: string[];
}

/**
 * `npm start` on a bare machine: an embedded Postgres kept under `.data/` when DATABASE_URL is
 * unset, and an embedded SMTP inbox with a web page when SMTP_URL is unset. Never in production.
 */
export async function startLocalServices(env: Env): Promise<LocalServices> {
  const local: LocalServices = { env: {}, banner: [] };
  if (env.NODE_ENV === 'production') return local;
  if (!env.DATABASE_URL?.trim()) {
    const dataDir = join(process.cwd(), '.data', 'postgres');
    const postgres = await startEmbeddedPostgres(dataDir, { port: 54329 });
    local.env.DATABASE_URL = postgres.url;
    local.banner.push(`  Postgres     embedded, data in ${dataDir} (set DATABASE_URL to use your own)`);
  }
  if (!env.SMTP_URL?.trim()) {
    const inbox = new SmtpInbox('127.0.0.1', join(process.cwd(), '.data', 'inbox'));
    // The usual ports of a local SMTP catcher when free, else any free ones.
    await inbox.start(await freePort(1025), await freePort(1080));
    local.env.SMTP_URL = inbox.smtpUrl;
    local.banner.push(`  Inbox        ${inbox.webUrl}  (embedded SMTP on port ${inbox.smtpPort}; set SMTP_URL to use a real relay)`);
  }
  return local;
}
