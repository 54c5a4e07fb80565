import { QueryFailedError, QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isDatabaseUnavailable } from './database-unavailable';
import { toErrorResponse } from './error-body.factory';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    [
      'a refused connection to every address of a host',
      Object.assign(new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')]), {
        code: 'ECONNREFUSED',
      }),
    ],
    [
      'the same, without a code of its own',
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')]),
    ],
    ['a connection cut by the server', new Error('Connection terminated unexpectedly')],
    ['the pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a connect timeout of the client', new Error('Connection terminated due to connection timeout')],
    ['SQLSTATE 08006 (connection failure)', withCode('connection failure', '08006')],
    ['SQLSTATE 08001 (cannot connect)', withCode('could not connect', '08001')],
    ['SQLSTATE 57P01 (admin shutdown)', withCode('terminating connection due to administrator command', '57P01')],
    [
      'SQLSTATE 57P02 (crash shutdown)',
      withCode('terminating connection because of crash of another server process', '57P02'),
    ],
    ['SQLSTATE 57P03 (cannot connect now)', withCode('the database system is starting up', '57P03')],
    ['SQLSTATE 53300 (too many connections)', withCode('sorry, too many clients already', '53300')],
    [
      'a driver error wrapped by TypeORM',
      new QueryFailedError('SELECT 1', [], withCode('terminating connection due to administrator command', '57P01')),
    ],
    [
      'an error whose cause is a refused connection',
      new Error('query failed', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') }),
    ],
    ['a transaction whose connection failed and was released', new QueryRunnerProviderAlreadyReleasedError()],
    ['the commit of such a transaction', new QueryRunnerAlreadyReleasedError()],
  ])('is true for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a syntax error', withCode('syntax error at or near "SELEC"', '42601')],
    [
      'a unique violation',
      new QueryFailedError('INSERT', [], withCode('duplicate key value violates unique constraint', '23505')),
    ],
    [
      'a statement timeout (a slow query, not an outage)',
      withCode('canceling statement due to statement timeout', '57014'),
    ],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error at all', 'ECONNREFUSED'],
    ['null', null],
  ])('is false for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('does not loop on an error that is its own cause', () => {
    const error = new Error('loop') as Error & { cause?: unknown };
    error.cause = error;
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('toErrorResponse for a database outage', () => {
  it('answers 503 SERVICE_UNAVAILABLE with Retry-After, without the cause in the body', () => {
    const response = toErrorResponse(
      withCode('connect ECONNREFUSED 10.1.2.3:5432', 'ECONNREFUSED'),
      'corr-db',
      'https://communication.example',
    );
    expect(response.status).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.body).toMatchObject({ name: 'SERVICE_UNAVAILABLE', debug_id: 'corr-db', details: [] });
    expect(JSON.stringify(response.body)).not.toContain('10.1.2.3');
    expect(response.unexpected).toBe(true);
  });

  it('keeps a query error a 500', () => {
    expect(toErrorResponse(withCode('syntax error', '42601'), 'c', 'https://x').status).toBe(500);
  });
});
