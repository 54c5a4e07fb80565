import { createServer, Server } from 'node:net';
import { ConfigError } from './config/env.reader';
import { DataDirectoryInUse } from './database/embedded-postgres';
import { startFailure } from './start-failure';

describe('startFailure', () => {
  it('names PORT in one line when the port is taken', async () => {
    const first = await listen(createServer(), 0);
    const port = (first.address() as { port: number }).port;
    const error = await listen(createServer(), port).then(
      () => null,
      (e: unknown) => e,
    );
    first.close();
    expect(startFailure(error)).toBe(
      `communication did not start: port ${port} is already in use; stop what listens there or set PORT to a free port`,
    );
  });

  it("names the embedded Postgres's data directory and the process holding it in one line, and the port when it is taken too", () => {
    expect(startFailure(new DataDirectoryInUse('.data/postgres', 4242))).toBe(
      "communication did not start: the embedded Postgres's data directory .data/postgres is in use (held by process 4242, see its postmaster.pid): " +
        'is another `npm start` of this checkout running? Stop it, or set DATABASE_URL to use another Postgres',
    );
    expect(startFailure(Object.assign(new DataDirectoryInUse('.data/postgres', 4242), { portInUse: 3000 }))).toBe(
      "communication did not start: port 3000 is already in use, and so is the embedded Postgres's data directory .data/postgres (held by process 4242, see its postmaster.pid): " +
        'is another `npm start` of this checkout running? Stop it, or set PORT and DATABASE_URL',
    );
  });

  it('gives one line per configuration problem, each naming its variable', () => {
    const text = startFailure(
      new ConfigError([
        'PORT must be an integer between 0 and 65535 (got "x")',
        'LOG_FORMAT must be one of json, pretty (got "xml")',
      ]),
    );
    expect(text.split('\n')).toEqual([
      'communication did not start: PORT must be an integer between 0 and 65535 (got "x")',
      'communication did not start: LOG_FORMAT must be one of json, pretty (got "xml")',
    ]);
  });
});

function listen(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('startFailure of something that is not an error', () => {
  it('still gives one line', () => {
    expect(startFailure(undefined)).toBe('communication did not start: an unknown error (nothing was thrown with it)');
    expect(startFailure('embedded Postgres exited')).toBe('communication did not start: embedded Postgres exited');
  });
});
