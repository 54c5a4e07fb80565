import { connect, Socket } from 'node:net';
import { readFileSync } from 'node:fs';

/** One SMTP reply: its code and its text (the lines of a multi-line reply joined). */
export interface SmtpReply {
  code: number;
  text: string;
}

/**
 * A bare SMTP client over a socket, for the fault tests of the inbound listener: every command's
 * reply code is seen as it is (nodemailer would stop at the first refusal), a message can be
 * streamed chunk by chunk without ever being held whole, and a client can keep its connection for
 * many transactions as a flooding sender does.
 */
export class SmtpClient {
  private buffer = '';
  private lines: string[] = [];
  private readonly waiting: Array<{ resolve: (reply: SmtpReply) => void; reject: (error: Error) => void }> = [];
  private readonly replies: SmtpReply[] = [];
  private closedWith?: Error;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.onData(text));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects and reads the greeting (which must be 220). */
  static async open(port: number, host = '127.0.0.1', timeoutMs = 30_000): Promise<SmtpClient> {
    const socket = connect({ port, host });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no SMTP traffic for ${timeoutMs} ms`)));
    const client = new SmtpClient(socket);
    const greeting = await client.reply();
    if (greeting.code !== 220) {
      client.close();
      throw new Error(`SMTP greeting ${greeting.code} ${greeting.text}`);
    }
    const ehlo = await client.command('EHLO faults.test');
    if (ehlo.code !== 250) throw new Error(`EHLO answered ${ehlo.code} ${ehlo.text}`);
    return client;
  }

  /** Sends one command line and resolves with its reply. */
  command(line: string): Promise<SmtpReply> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  /**
   * DATA: after a 354, writes every chunk (already CRLF and dot-stuffed), waiting for the socket to
   * drain before the next one, then the final dot; resolves with the reply to DATA when it is not
   * 354, else with the reply to the message.
   */
  async data(chunks: Iterable<Buffer | string>): Promise<{ data: SmtpReply; final?: SmtpReply }> {
    const data = await this.command('DATA');
    if (data.code !== 354) return { data };
    for (const chunk of chunks) {
      if (this.closedWith) throw this.closedWith;
      if (!this.socket.write(chunk))
        await new Promise<void>((resolve, reject) => {
          const onClose = (): void => reject(this.closedWith ?? new Error('connection closed'));
          this.socket.once('drain', () => {
            this.socket.off('close', onClose);
            resolve();
          });
          this.socket.once('close', onClose);
        });
    }
    this.socket.write('\r\n.\r\n');
    return { data, final: await this.reply() };
  }

  /** QUIT, then the socket ends. */
  async quit(): Promise<void> {
    await this.command('QUIT').catch(() => undefined);
    this.close();
  }

  close(): void {
    this.socket.destroy();
  }

  private reply(): Promise<SmtpReply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private onData(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.lines.push(line);
      // `250-...` continues a reply, `250 ...` (or a bare code) ends it.
      if (/^\d{3}-/.test(line)) continue;
      const reply = { code: Number(line.slice(0, 3)), text: this.lines.map((l) => l.slice(4)).join('\n') };
      this.lines = [];
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(reply);
      else this.replies.push(reply);
    }
  }

  private fail(error: Error): void {
    this.closedWith ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.closedWith);
  }
}

/** A whole message as DATA sends it: CRLF line ends, lines that start with a dot doubled. */
export function dataOf(raw: string): string {
  return raw
    .replace(/\r?\n/g, '\r\n')
    .replace(/\r\n$/, '')
    .split('\r\n')
    .map((line) => (line.startsWith('.') ? `.${line}` : line))
    .join('\r\n');
}

/** What one delivery attempt of a sending MTA got: the reply to each RCPT TO, to DATA, and to the message. */
export interface Delivery {
  rcpt: number[];
  data?: number;
  final?: number;
  /** The reply that ended the transaction (the message's, or the first refusal), as `code text`. */
  last: string;
}

/** Delivers `raw` once, as a sending MTA would (one connection, MAIL FROM, RCPT TO each, DATA). */
export async function deliver(port: number, raw: string, to: string[], from = ''): Promise<Delivery> {
  const client = await SmtpClient.open(port);
  try {
    const mail = await client.command(`MAIL FROM:<${from}>`);
    if (mail.code !== 250) return { rcpt: [], last: `${mail.code} ${mail.text}` };
    const rcpt: number[] = [];
    let lastRcpt = '';
    for (const address of to) {
      const reply = await client.command(`RCPT TO:<${address}>`);
      rcpt.push(reply.code);
      lastRcpt = `${reply.code} ${reply.text}`;
    }
    if (!rcpt.includes(250)) return { rcpt, last: lastRcpt };
    const { data, final } = await client.data([dataOf(raw)]);
    return { rcpt, data: data.code, final: final?.code, last: `${(final ?? data).code} ${(final ?? data).text}` };
  } finally {
    await client.quit();
  }
}

/** A message of the corpus (test/fixtures/inbound) with its placeholders (`%NAME%`) replaced. */
export function inboundFixture(path: string, values: Record<string, string>): string {
  let text = readFileSync(path, 'utf8');
  for (const [key, value] of Object.entries(values)) text = text.split(`%${key}%`).join(value);
  const left = /%[A-Z_]+%/.exec(text);
  if (left) throw new Error(`${path}: placeholder ${left[0]} not replaced`);
  return text;
}
