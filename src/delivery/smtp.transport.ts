import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { AppConfig, InjectConfig } from '../config/app.config';

export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** `<id@domain>`, fixed per delivery so a retry never yields a second id. */
  messageId: string;
  replyTo?: string;
  /** Headers set by the service itself (ids it generated); never client data. */
  headers: Record<string, string>;
}

export interface SmtpFailure {
  /** Try again later: a 4xx or an unreachable server, with attempts left. */
  retry: boolean;
  reason: string;
}

/** The SMTP side, and nothing of the business of mails: a pooled nodemailer transport. */
@Injectable()
export class SmtpTransport implements OnApplicationShutdown {
  private readonly logger = new Logger(SmtpTransport.name);
  private readonly transporter: Transporter<SMTPPool.SentMessageInfo>;

  constructor(@InjectConfig() private readonly config: AppConfig) {
    this.transporter = createTransport({
      url: config.mail.smtpUrl,
      pool: true,
      maxConnections: config.delivery.smtpPoolSize,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      // Nothing we send may read a local file or fetch a URL on a client's behalf.
      disableFileAccess: true,
      disableUrlAccess: true,
    } as SMTPPool.Options);
  }

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
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    return info.response;
  }

  /** Whether the SMTP server answers and accepts us (for readiness). */
  async verify(): Promise<void> {
    await this.transporter.verify();
  }

  /**
   * After a failed send: a 5xx refuses the mail for good; a 4xx or a connection problem is worth
   * another attempt, unless this was the last one.
   */
  static classify(error: unknown, lastAttempt: boolean): SmtpFailure {
    const { responseCode, response, code, message } = error as { responseCode?: number; response?: string; code?: string; message?: string };
    if (typeof responseCode === 'number' && responseCode >= 500) return { retry: false, reason: response ?? `${responseCode}` };
    const reason = typeof responseCode === 'number' ? (response ?? `${responseCode}`) : [code, message].filter(Boolean).join(': ') || 'SMTP error';
    return lastAttempt ? { retry: false, reason: `Gave up after retries: ${reason}` } : { retry: true, reason };
  }

  onApplicationShutdown(): void {
    this.transporter.close();
    this.logger.debug('SMTP pool closed');
  }
}
