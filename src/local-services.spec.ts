import { createServer, Server } from 'node:net';
import { startLocalServices } from './local-services';

/** DATABASE_URL and SMTP_URL set: nothing is embedded, only the inbound listener's port is chosen. */
const external = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', SMTP_URL: 'smtp://127.0.0.1:25' };

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('startLocalServices: the inbound SMTP listener port, with nothing configured', () => {
  it('INBOUND_SMTP_PORT unset: 2525 when free, else another free port, so the inbox reply form and the listener agree', async () => {
    // 2525 taken (by this test, or by anything else on the machine).
    const holder = await listen(2525);
    try {
      const local = await startLocalServices(external);
      const port = Number(local.env.INBOUND_SMTP_PORT);
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(2525);
      expect(local.inbox).toBeUndefined();
      await local.close();
    } finally {
      await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
    }
    const free = await listen(2525);
    if (free) {
      await new Promise((resolve) => free.close(resolve));
      const local = await startLocalServices(external);
      expect(local.env.INBOUND_SMTP_PORT).toBe('2525');
      await local.close();
    }
  });

  it('INBOUND_SMTP_PORT=0 becomes a port chosen now (the reply form needs one to send to)', async () => {
    const local = await startLocalServices({ ...external, INBOUND_SMTP_PORT: '0' });
    expect(Number(local.env.INBOUND_SMTP_PORT)).toBeGreaterThan(0);
  });

  it('a port that is set is kept, and production chooses nothing', async () => {
    expect((await startLocalServices({ ...external, INBOUND_SMTP_PORT: '2626' })).env).toEqual({});
    expect((await startLocalServices({ NODE_ENV: 'production' })).env).toEqual({});
  });
});
