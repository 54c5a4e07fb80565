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
  /** 5xx: the server refused this mail for good. Anything else may work on a later attempt. */
  permanent: boolean;
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

  static classify(error: unknown): SmtpFailure {
    const { responseCode, response, code, message } = error as { responseCode?: number; response?: string; code?: string; message?: string };
    if (typeof responseCode === 'number') {
      return { permanent: responseCode >= 500, reason: response ?? `${responseCode}` };
    }
    return { permanent: false, reason: [code, message].filter(Boolean).join(': ') || 'SMTP error' };
  }

  onApplicationShutdown(): void {
    this.transporter.close();
    this.logger.debug('SMTP pool closed');
  }
}
