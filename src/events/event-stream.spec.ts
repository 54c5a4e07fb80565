import { createServer, request, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { EventStream, sseFrame } from './event-stream';
import { StoredEvent } from './events.repository';

/** EventStream on a real loopback socket: what a reading client gets, and what happens to one that stops reading. */
describe('EventStream', () => {
  let server: Server;
  let port: number;
  let serverSide: Promise<ServerResponse>;

  beforeEach(async () => {
    let accept!: (res: ServerResponse) => void;
    serverSide = new Promise((resolve) => (accept = resolve));
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      accept(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const event = (id: number, data: unknown = { n: id }): StoredEvent => ({
    id: String(id),
    type: 'message.created',
    data,
    correlationId: null,
    conversationId: null,
    participantIds: null,
    createdAt: new Date(),
  });

  /** Connects a client; `read: false` plays one that never reads what it is sent. */
  async function connect(
    read: boolean,
  ): Promise<{ res: ServerResponse; received: () => string; closed: Promise<void> }> {
    let body = '';
    let closedResolve!: () => void;
    const closed = new Promise<void>((resolve) => (closedResolve = resolve));
    const req = request({ host: '127.0.0.1', port, path: '/' }, (incoming) => {
      incoming.setEncoding('utf8');
      if (read) incoming.on('data', (chunk: string) => (body += chunk));
      else incoming.pause();
      incoming.on('close', () => closedResolve());
    });
    // A paused response never reports its end: the socket does.
    req.on('socket', (socket) => socket.on('close', () => closedResolve()));
    req.on('error', () => closedResolve());
    req.end();
    return { res: await serverSide, received: () => body, closed };
  }

  it('frames an event with its id, name and JSON data', () => {
    expect(sseFrame({ id: '7', type: 'message.created', data: { a: 1 } })).toBe(
      'id: 7\nevent: message.created\ndata: {"a":1}\n\n',
    );
  });

  it('sends the replay, then the events that arrived during it, each once', async () => {
    const client = await connect(true);
    const stream = new EventStream(client.res, 64 * 1024, { conversationId: 'c' });
    stream.push(event(3));
    stream.push(event(5));
    stream.finishReplay([event(2), event(3)]);
    stream.push(event(6));
    stream.end();
    await client.closed;
    expect(client.received().match(/^id: \d+$/gm)).toEqual(['id: 2', 'id: 3', 'id: 5', 'id: 6']);
  });

  it("skips live events up to the client's Last-Event-ID (the instance may be behind the one it left)", async () => {
    const client = await connect(true);
    const stream = new EventStream(client.res, 64 * 1024, { conversationId: 'c' }, undefined, '5');
    stream.push(event(4));
    stream.push(event(5));
    stream.push(event(6));
    stream.finishReplay([]);
    stream.push(event(7));
    stream.end();
    await client.closed;
    expect(client.received().match(/^id: \d+$/gm)).toEqual(['id: 6', 'id: 7']);
  });

  it('drops a client that stops reading once its buffer is full, without holding more', async () => {
    const client = await connect(false);
    let dropped = 0;
    const stream = new EventStream(client.res, 64 * 1024, { participantId: 'p' }, () => (dropped += 1));
    stream.finishReplay([]);
    const big = 'x'.repeat(256 * 1024);
    for (let i = 1; i <= 400 && !stream.isClosed; i += 1) {
      stream.push(event(i, { big }));
      // One turn per push on purpose: the socket sends what it can, the rest piles up unread (the loop ends once dropped).
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(stream.isClosed).toBe(true);
    expect(dropped).toBe(1);
    // Its socket is closed and its buffer released (the client, not reading, learns it when it reads again).
    expect(client.res.destroyed).toBe(true);
    expect(client.res.writableLength).toBe(0);
  });
});
