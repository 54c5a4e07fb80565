import { createServer, Server } from 'node:net';
import { ConfigError } from './config/env.reader';
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
    expect(startFailure(error)).toBe(`communication did not start: port ${port} is already in use; stop what listens there or set PORT to a free port`);
  });

  it('gives one line per configuration problem, each naming its variable', () => {
    const text = startFailure(new ConfigError(['PORT must be an integer between 0 and 65535 (got "x")', 'LOG_FORMAT must be one of json, pretty (got "xml")']));
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
