import type { Logger } from 'pino';
import { AppConfig } from './config/app.config';
import type { LocalServices } from './local-services';

/**
 * "communication is running" and where everything is: a banner for a person at a terminal
 * (LOG_FORMAT=pretty), one log line with the addresses as fields for a log collector
 * (LOG_FORMAT=json, where a line of plain text would not parse).
 */
export function announceStart(
  logger: Logger,
  config: AppConfig,
  local: Pick<LocalServices, 'postgres' | 'inbox'>,
  print: (text: string) => void = (text) => process.stdout.write(text),
): void {
  const base = config.http.publicBaseUrl ?? `http://localhost:${config.http.port}`;
  const api = config.runMode !== 'worker';
  // The inbound SMTP listener runs where the API does (src/inbound/inbound-smtp.listener.ts).
  const { smtpHost, smtpPort, domain, enabled } = config.inbound;
  const inbound = api && smtpPort !== undefined ? { smtp: `smtp://${smtpHost}:${smtpPort}`, domain } : undefined;
  const dkim = dkimRecord(config);
  if (config.logFormat === 'json') {
    logger.info(
      {
        runMode: config.runMode,
        ...(api ? { api: `${base}/v1`, docs: `${base}/docs` } : {}),
        health: `${base}/health/ready`,
        metrics: `${base}/metrics`,
        ...(local.postgres ? { postgres: local.postgres } : {}),
        ...(local.inbox ? { inbox: local.inbox } : {}),
        ...(inbound ? { inbound } : {}),
        ...(dkim ? { dkim } : {}),
      },
      'communication is running',
    );
    return;
  }
  const lines = [
    `communication is running (RUN_MODE=${config.runMode})`,
    api ? `  API          ${base}/v1` : '',
    api ? `  Swagger UI   ${base}/docs` : '',
    `  Health       ${base}/health/ready    Metrics ${base}/metrics`,
    local.postgres
      ? `  Postgres     embedded, data in ${local.postgres.dataDir} (set DATABASE_URL to use your own)`
      : '',
    local.inbox
      ? `  Inbox        ${local.inbox.url}  (embedded SMTP on port ${local.inbox.smtpPort}; set SMTP_URL to use a real relay)`
      : '',
    inbound
      ? `  Inbound mail ${inbound.smtp}  (${enabled ? `replies and bounces to *@${domain}` : 'INBOUND_DOMAIN unset: no mail sent names it'})`
      : '',
    dkim
      ? `  DKIM         signing d=${config.dkim?.domainName} s=${config.dkim?.keySelector}; publish:\n    ${dkim.record}`
      : '',
  ];
  print(`\n${lines.filter(Boolean).join('\n')}\n\n`);
}

/**
 * The DNS record receivers look the DKIM key up in (contract A3), built from the configured key:
 * `{selector}._domainkey.{domain} TXT "v=DKIM1; k=rsa; p=…"`. Only the public half is shown.
 */
export function dkimRecord(
  config: Pick<AppConfig, 'dkim'>,
): { name: string; type: 'TXT'; value: string; record: string } | undefined {
  if (!config.dkim) return undefined;
  const name = `${config.dkim.keySelector}._domainkey.${config.dkim.domainName}`;
  const value = config.dkim.publicKeyDns;
  return { name, type: 'TXT', value, record: `${name} TXT "${value}"` };
}
