import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Socket } from 'node:net';
import { createTransport, Transporter } from 'nodemailer';
import type DKIM from 'nodemailer/lib/dkim';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { AppConfig, DkimConfig, InjectConfig } from '../config/app.config';

export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** `<id@domain>`, fixed per delivery so a retry never yields a second id. */
  messageId: string;
  replyTo?: string;
  /** The envelope sender (MAIL FROM, the Return-Path of the copy): where bounces go; MAIL_FROM's address by default. */
  envelopeFrom?: string;
  /** Headers set by the service itself (ids it generated, fixed values); never client data. */
  headers: Record<string, string>;
}

export interface SmtpFailure {
  /** A 5xx: the relay refused for good. Anything else (4xx, timeout, unreachable) may pass later. */
  permanent: boolean;
  /** The relay's reply (`550 5.1.1 …`), or what went wrong on the way to it. */
  response: string;
  /** The SMTP command that failed (`RCPT TO`, `DATA`, `CONN`…) when known. */
  command?: string;
  /** The relay's reply code (550…) when it answered. */
  responseCode?: number;
}

export interface SmtpTimeouts {
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
}

/**
 * Every SMTP wait is bounded well inside the delivery lease, so a slow or stalled relay makes the
 * attempt fail (and be retried by the same worker) long before another worker may take it up.
 */
export function smtpTimeouts(leaseSeconds: number): SmtpTimeouts {
  const lease = leaseSeconds * 1000;
  return {
    connectionTimeout: Math.min(10_000, Math.floor(lease / 4)),
    greetingTimeout: Math.min(10_000, Math.floor(lease / 4)),
    socketTimeout: Math.min(30_000, Math.floor(lease / 2)),
  };
}

/**
 * The transport options of an `smtp://` or `smtps://` URL. nodemailer's `createTransport({url, ...})`
 * keeps the url's options only and silently drops the rest (pool, timeouts), so the url is parsed here.
 */
export function smtpOptionsFromUrl(url: string): Pick<SMTPPool.Options, 'host' | 'port' | 'secure' | 'auth'> {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  const user = decodeURIComponent(parsed.username);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    auth: user ? { user, pass: decodeURIComponent(parsed.password) } : undefined,
  };
}

/**
 * The headers a DKIM signature covers (contract A3), set on purpose: nodemailer's default list
 * leaves `List-Unsubscribe-Post` out, and RFC 8058 wants both unsubscribe headers signed (a one-click
 * unsubscribe a relay could add or change is refused by Gmail and Yahoo). nodemailer puts in `h=`
 * only those present in the mail, the last occurrence of each (RFC 6376 5.4.2); it cannot sign a
 * name twice (over-signing), a repeated name in this list counts once.
 */
export const DKIM_SIGNED_HEADERS = [
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'In-Reply-To',
  'References',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'Content-Language',
  'Auto-Submitted',
  'List-Id',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
] as const;

/**
 * nodemailer's `dkim` option for DKIM_*: every mail the transport sends is signed with this one key.
 * nodemailer always canonicalizes relaxed/relaxed (`c=relaxed/relaxed`, fixed in
 * nodemailer/lib/dkim/sign.js) and signs `rsa-` + hashAlgo; sha256 is asked for explicitly. Caution:
 * when the key cannot sign, nodemailer sends the mail unsigned, silently; loadConfig tries the key
 * at start so that never happens (src/config/app.config.ts, readDkim).
 */
export function dkimOptions(dkim: DkimConfig | undefined): DKIM.SingleKeyOptions | undefined {
  if (!dkim) return undefined;
  return {
    domainName: dkim.domainName,
    keySelector: dkim.keySelector,
    privateKey: dkim.privateKey,
    hashAlgo: 'sha256',
    headerFieldNames: DKIM_SIGNED_HEADERS.join(':'),
    // Mails are small (no attachments): signed in memory, never through a cache file on disk.
    cacheDir: false,
  };
}

/** Sorts a failed send: only a 5xx reply is final. */
export function classifySmtpError(error: unknown): SmtpFailure {
  const { responseCode, response, code, message, command } = (error ?? {}) as {
    responseCode?: number;
    response?: string;
    code?: string;
    message?: string;
    command?: string;
  };
  if (typeof responseCode === 'number') {
    return {
      permanent: responseCode >= 500 && responseCode < 600,
      response: response ?? String(responseCode),
      command,
      responseCode,
    };
  }
  return { permanent: false, response: [code, message].filter(Boolean).join(': ') || 'SMTP error', command };
}

/** The SMTP side, and nothing of the business of mails: a pooled nodemailer transport. */
@Injectable()
export class SmtpTransport implements OnApplicationShutdown {
  private readonly logger = new Logger(SmtpTransport.name);
  private readonly transporter: Transporter<SMTPPool.SentMessageInfo>;

  constructor(@InjectConfig() private readonly config: AppConfig) {
    const options = smtpOptionsFromUrl(config.mail.smtpUrl);
    this.transporter = createTransport({
      ...options,
      pool: true,
      maxConnections: config.delivery.smtpPoolSize,
      // A connection is reused for many mails; a fresh one now and then spreads load on relays.
      maxMessages: 1000,
      ...smtpTimeouts(config.delivery.leaseSeconds),
      // Plain SMTP: a socket with Nagle's algorithm off (nodemailer leaves it on, which costs ~40 ms
      // per command round trip). nodemailer connects it and applies its connection timeout.
      getSocket: options.secure
        ? undefined
        : (_options: unknown, callback: (error: Error | null, socket?: { socket: Socket }) => void) => {
            const socket = new Socket();
            socket.setNoDelay(true);
            callback(null, { socket });
          },
      // Nothing we send may read a local file or fetch a URL on a client's behalf.
      disableFileAccess: true,
      disableUrlAccess: true,
      // DKIM_*: every mail signed (contract A3); see dkimOptions.
      dkim: dkimOptions(config.dkim),
    } as SMTPPool.Options);
  }

  /** Sends one mail; resolves with the relay's `250` reply. */
  async send(mail: OutgoingMail): Promise<string> {
    const info = await this.transporter.sendMail({
      from: this.config.mail.from,
      to: mail.to,
      replyTo: mail.replyTo,
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      messageId: mail.messageId,
      headers: mail.headers,
      ...(mail.envelopeFrom ? { envelope: { from: mail.envelopeFrom, to: mail.to } } : {}),
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    return info.response;
  }

  /** Whether the SMTP server answers and accepts us (shown by readiness, never failing it). */
  async verify(): Promise<void> {
    await this.transporter.verify();
  }

  onApplicationShutdown(): void {
    this.transporter.close();
    this.logger.debug('SMTP pool closed');
  }
}
