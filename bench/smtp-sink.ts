/**
 * The SMTP sink of both delivery runs: an `smtp-server` on 127.0.0.1 that accepts every message,
 * counts it and keeps the first one it received as it came (the reference resends those bytes).
 */
import { SMTPServer } from 'smtp-server';
import { freePort } from '../src/database/embedded-postgres';

export interface Sink {
  url: string;
  port: number;
  count(): number;
  /** The first message received, raw, with its envelope. */
  sample(): { from: string; to: string[]; raw: Buffer } | undefined;
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  let received = 0;
  let sample: { from: string; to: string[]; raw: Buffer } | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // smtp-server otherwise holds each greeting up to 1.6 s for a reverse DNS look-up of the client.
    disableReverseLookup: true,
    // The bench opens and closes many connections; never refuse one for that.
    maxClients: 1000,
    onData(stream, session, callback) {
      const chunks: Buffer[] | undefined = sample ? undefined : [];
      stream.on('data', (chunk: Buffer) => chunks?.push(chunk));
      stream.on('end', () => {
        received++;
        if (chunks && !sample) {
          sample = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
          };
        }
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    count: () => received,
    sample: () => sample,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
