import { join } from 'node:path';
import { loadConfig } from './config/app.config';
import { Env } from './config/env.reader';
import { EmbeddedPostgres, freePort, shownPath, startEmbeddedPostgres } from './database/embedded-postgres';
import { SmtpInbox } from './delivery/smtp-inbox';

export interface LocalServices {
  /** Variables to add to the environment (DATABASE_URL, SMTP_URL, INBOUND_SMTP_PORT) for what was started. */
  env: Env;
  /** What was started, for the start-up banner: where Postgres keeps its data, where the inbox is. */
  postgres?: { dataDir: string };
  inbox?: { url: string; smtpPort: number };
  /** Stops what was started (after the service: it still uses them while it stops). */
  close(): Promise<void>;
}

/**
 * `npm start` on a bare machine: an embedded Postgres kept under `.data/` when DATABASE_URL is
 * unset, an embedded SMTP inbox with a web page when SMTP_URL is unset, and a free port for the
 * service's inbound SMTP listener when INBOUND_SMTP_PORT is unset (or 0). Never in production.
 */
export async function startLocalServices(env: Env): Promise<LocalServices> {
  let postgres: EmbeddedPostgres | undefined;
  let inbox: SmtpInbox | undefined;
  const local: LocalServices = {
    env: {},
    close: async () => {
      await inbox?.stop();
      // The service's pools may still be closing their connections: no session is cut.
      await postgres?.stop({ afterSessions: true });
    },
  };
  if (env.NODE_ENV === 'production') return local;
  try {
    // The listener's usual port when free, else any free one: fixed here rather than left to the
    // listener (0), so the inbox page's reply form and the start banner name the port it listens on.
    const inboundPort = env.INBOUND_SMTP_PORT?.trim();
    if (!inboundPort || inboundPort === '0')
      local.env.INBOUND_SMTP_PORT = String(await freePort(inboundPort ? 0 : 2525));
    if (!env.DATABASE_URL?.trim()) {
      const dataDir = join(process.cwd(), '.data', 'postgres');
      postgres = await startEmbeddedPostgres(dataDir, { port: 54329 });
      local.env.DATABASE_URL = postgres.url;
      local.postgres = { dataDir: shownPath(dataDir) };
    }
    if (!env.SMTP_URL?.trim()) {
      inbox = new SmtpInbox('127.0.0.1', join(process.cwd(), '.data', 'inbox'), {
        // The page's "Reply / Répondre" form sends to the service's inbound listener (contract A2),
        // read from the configuration when a reply is sent (a wrong one is then shown on the page).
        replyRelay: () => {
          const { smtpHost, smtpPort } = loadConfig({ ...env, ...local.env }).inbound;
          return smtpPort ? { host: smtpHost, port: smtpPort } : undefined;
        },
      });
      // The usual ports of a local SMTP catcher when free, else any free ones.
      await inbox.start(await freePort(1025), await freePort(1080));
      local.env.SMTP_URL = inbox.smtpUrl;
      local.inbox = { url: inbox.webUrl, smtpPort: inbox.smtpPort };
    }
  } catch (error) {
    await local.close();
    throw error;
  }
  return local;
}
