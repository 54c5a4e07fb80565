import { Logger } from '@nestjs/common';
import pg from 'pg';

const logger = new Logger('Database');

/**
 * node-postgres with an `error` listener on every client its pools create. A connection that the
 * server cuts (pg_terminate_backend, a restart) can emit `error` twice; TypeORM listens only until
 * the first, and an `error` event without a listener ends the process. The query in flight still
 * fails (503) and the pool replaces the connection.
 */
class GuardedPool extends pg.Pool {
  constructor(options?: pg.PoolConfig) {
    super(options);
    this.on('connect', (client) =>
      client.on('error', (error) => logger.warn({ err: error }, 'A database connection failed')),
    );
  }
}

export const guardedPg = { ...pg, Pool: GuardedPool };
