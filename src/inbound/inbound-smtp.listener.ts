import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AddressInfo } from 'node:net';
import type { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { AppConfig, InjectConfig } from '../config/app.config';
import { InboundService } from './inbound.service';

/** Recipients of one message: a DSN or a reply names one address of ours; a few more are tolerated. */
const MAX_RECIPIENTS = 20;

/** An SMTP answer: smtp-server sends `responseCode` and the message as the reply line. */
function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

/**
 * The way in for mail (contract A2): an SMTP server that takes mail only for `bounces+` and
 * `reply+` addresses with a valid token (refused at RCPT TO otherwise, before any data: never an
 * open relay, and a flood of wrong addresses costs one HMAC each), up to INBOUND_MAX_BYTES (552
 * beyond, counted while reading; the excess is read and dropped, never kept). A message is
 * answered 250 only once it is recorded and applied; when that fails (Postgres down) it is 451,
 * so the sending server keeps it and tries again.
 */
@Injectable()
export class InboundSmtpListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InboundSmtpListener.name);
  private server?: SMTPServer;

  constructor(
    private readonly inbound: InboundService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The port it listens on (useful when INBOUND_SMTP_PORT=0 asked for any free one). */
  get port(): number | undefined {
    const address = this.server?.server.address() as AddressInfo | null | undefined;
    return address?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { smtpPort, smtpHost, maxBytes, domain } = this.config.inbound;
    // Like the HTTP API, it runs where requests are served; a worker-only process has no listener.
    if (smtpPort === undefined || this.config.runMode === 'worker') return;
    const { SMTPServer } = await import('smtp-server');
    const server = new SMTPServer({
      name: domain,
      banner: 'communication inbound',
      // Advertised (a sender that declares a larger SIZE is refused at MAIL FROM); the data itself
      // is counted in `receive`, which answers 552 5.3.4 (smtp-server's own refusal has no enhanced code).
      size: maxBytes,
      // No AUTH: nobody logs in to send through us. No STARTTLS without a certificate of ours.
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      // Otherwise each greeting waits up to 1.5 s for a reverse DNS look-up of the client.
      disableReverseLookup: true,
      maxClients: 200,
      socketTimeout: 60_000,
      closeTimeout: 10_000,
      logger: false,
      onRcptTo: (address, session, callback) => {
        if (session.envelope.rcptTo.length >= MAX_RECIPIENTS)
          return callback(smtpError(452, '4.5.3 Too many recipients'));
        if (!this.inbound.accepts(address.address)) return callback(smtpError(550, '5.1.1 No such recipient here'));
        callback();
      },
      onData: (stream, session, callback) => void this.receive(stream, session).then(() => callback(), callback),
    });
    server.on('error', (error) => this.logger.error(`Inbound SMTP: ${error.message}`));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(smtpPort, smtpHost, () => {
        server.server.off('error', reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        `INBOUND_SMTP_PORT ${smtpPort} on ${smtpHost} cannot be listened on: ${error.code ?? error.message}`,
      );
    });
    this.server = server;
    this.logger.log(`Inbound SMTP listening on ${smtpHost}:${this.port} for *@${domain}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Past the limit the rest is read (the client must finish DATA) but not kept: 552 follows.
      if (size <= this.config.inbound.maxBytes) chunks.push(chunk);
    }
    if (stream.sizeExceeded) throw smtpError(552, '5.3.4 Message too big');
    const mailFrom = session.envelope.mailFrom;
    try {
      await this.inbound.receive(
        Buffer.concat(chunks, size),
        { from: mailFrom ? mailFrom.address || null : null, to: session.envelope.rcptTo.map((r) => r.address) },
        'SMTP',
      );
    } catch (error) {
      this.logger.error(`Inbound message not stored, the sender will retry: ${(error as Error).message}`);
      throw smtpError(451, '4.3.0 Temporarily unable to accept the message, try again later');
    }
  }
}
