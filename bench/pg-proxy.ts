/**
 * A TCP proxy on 127.0.0.1 between a child process and Postgres that reads the client's side of
 * the wire protocol. It counts database round trips (each `Sync` of the extended protocol and each
 * simple `Query` is one wait for the server) and, when asked, records the statements with their
 * parameters, so the bench can replay exactly the SQL the service ran through a bare `pg` client.
 */
import { createServer, Server, Socket, connect } from 'node:net';

export interface CapturedStatement {
  /** Which client connection sent it (statements of one connection are replayed in order). */
  connection: number;
  sql: string;
  /** Text parameters as sent (null for SQL NULL); binary ones as Buffers. */
  params: Array<string | Buffer | null>;
}

export interface PgProxy {
  url: string;
  /** Sync + simple Query messages sent by clients since the start. */
  roundTrips(): number;
  /** Starts recording statements (clears what was recorded). */
  capture(): void;
  /** Stops recording and returns the statements recorded since `capture()`. */
  captured(): CapturedStatement[];
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Starts a proxy to the Postgres of `databaseUrl`; its `url` is that URL with the proxy's port. */
export async function startPgProxy(databaseUrl: string): Promise<PgProxy> {
  const target = new URL(databaseUrl);
  let roundTrips = 0;
  let recording = false;
  let recorded: CapturedStatement[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const id = ++connections;
    const upstream = connect({ host: target.hostname, port: Number(target.port || 5432) });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    const statements = new Map<string, string>();
    let pending = Buffer.alloc(0);
    let startup = true;

    const onMessage = (type: number, body: Buffer): void => {
      if (type === 0x53 /* S: Sync */) roundTrips++;
      else if (type === 0x51 /* Q: Query */) {
        roundTrips++;
        if (recording) recorded.push({ connection: id, sql: cstring(body, 0).value, params: [] });
      } else if (type === 0x50 /* P: Parse */) {
        const name = cstring(body, 0);
        statements.set(name.value, cstring(body, name.next).value);
      } else if (type === 0x42 /* B: Bind */ && recording) {
        const portal = cstring(body, 0);
        const statement = cstring(body, portal.next);
        let at = statement.next;
        const formatCount = body.readInt16BE(at);
        at += 2;
        const formats: number[] = [];
        for (let i = 0; i < formatCount; i++, at += 2) formats.push(body.readInt16BE(at));
        const paramCount = body.readInt16BE(at);
        at += 2;
        const params: Array<string | Buffer | null> = [];
        for (let i = 0; i < paramCount; i++) {
          const length = body.readInt32BE(at);
          at += 4;
          if (length < 0) {
            params.push(null);
            continue;
          }
          const bytes = body.subarray(at, at + length);
          at += length;
          const binary = (formats.length === 1 ? formats[0] : (formats[i] ?? 0)) === 1;
          params.push(binary ? Buffer.from(bytes) : bytes.toString('utf8'));
        }
        recorded.push({ connection: id, sql: statements.get(statement.value) ?? '', params });
      }
    };

    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (startup) {
          if (pending.length < 8) break;
          const length = pending.readInt32BE(0);
          if (pending.length < length) break;
          const code = pending.readInt32BE(4);
          pending = pending.subarray(length);
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
          continue;
        }
        if (pending.length < 5) break;
        const length = pending.readInt32BE(1);
        if (pending.length < 1 + length) break;
        onMessage(pending[0], pending.subarray(5, 1 + length));
        pending = pending.subarray(1 + length);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    roundTrips: () => roundTrips,
    capture() {
      recorded = [];
      recording = true;
    },
    captured() {
      recording = false;
      return recorded;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function cstring(buffer: Buffer, start: number): { value: string; next: number } {
  const end = buffer.indexOf(0, start);
  return { value: buffer.toString('utf8', start, end), next: end + 1 };
}
