import { Pool } from 'pg';
import { QueueHandler } from '../src/queue/queue-handler';
import { QueueRunner } from '../src/queue/queue-runner';
import { waitUntil } from './fixtures';
import { createTestDatabase } from './harness';

/**
 * The lease runner's decisions (src/queue/queue-runner.ts) on real Postgres, with a handler over a
 * table of its own that claims and settles as the service's queues do: a claim leases a row and
 * numbers its attempt; a settle changes the row only while it is still that attempt's.
 */
interface Job {
  id: number;
  attempt: number;
}
interface Outcome extends Job {
  by: string;
}

class TableHandler implements QueueHandler<Job, Outcome, boolean> {
  readonly name = 'test_jobs';
  /** Settles that throw before one goes through (the database refusing for a moment). */
  settleFailures = 0;
  settleCalls = 0;
  /** Jobs whose attempt waits until the test releases them. */
  readonly held = new Map<number, () => void>();
  readonly handled: Outcome[] = [];
  readonly recorded: Array<{ id: number; attempt: number; landed: boolean | undefined }> = [];
  private readonly gates = new Map<number, Promise<void>>();

  constructor(
    private readonly pool: Pool,
    private readonly worker: string,
  ) {}

  hold(id: number): void {
    this.gates.set(id, new Promise((resolve) => this.held.set(id, resolve)));
  }

  async claim(limit: number, leaseSeconds: number): Promise<Job[]> {
    const { rows } = await this.pool.query<Job>(
      `WITH due AS (
         SELECT id FROM test_job WHERE status IN ('PENDING', 'RUNNING') AND due_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
       )
       UPDATE test_job j SET status = 'RUNNING', attempts = j.attempts + 1, due_at = now() + make_interval(secs => $2)
       FROM due WHERE j.id = due.id RETURNING j.id, j.attempts AS attempt`,
      [limit, leaseSeconds],
    );
    return rows;
  }

  async handle(job: Job): Promise<Outcome> {
    await this.gates.get(job.id);
    const outcome = { ...job, by: this.worker };
    this.handled.push(outcome);
    return outcome;
  }

  async settle(outcomes: Outcome[]): Promise<boolean[]> {
    this.settleCalls += 1;
    if (this.settleFailures > 0) {
      this.settleFailures -= 1;
      throw new Error('the database refused for a moment');
    }
    const { rows } = await this.pool.query<{ id: number }>(
      `UPDATE test_job j SET status = 'DONE', done_by = o.by
       FROM unnest($1::int[], $2::int[], $3::text[]) AS o (id, attempt, by)
       WHERE j.id = o.id AND j.status = 'RUNNING' AND j.attempts = o.attempt RETURNING j.id`,
      [outcomes.map((o) => o.id), outcomes.map((o) => o.attempt), outcomes.map((o) => o.by)],
    );
    const done = new Set(rows.map((row) => row.id));
    return outcomes.map((o) => done.has(o.id));
  }

  settled(job: Job, _outcome: Outcome, landed: boolean | undefined): void {
    this.recorded.push({ id: job.id, attempt: job.attempt, landed });
  }
}

describe('QueueRunner (real Postgres)', () => {
  let pool: Pool;
  const runners: Array<QueueRunner<Job, Outcome, boolean>> = [];
  let nextId = 0;

  const runner = (handler: TableHandler, leaseSeconds: number, concurrency = 4): QueueRunner<Job, Outcome, boolean> => {
    const created = new QueueRunner(handler, { concurrency, leaseSeconds, pollMs: 100 });
    runners.push(created);
    created.start();
    return created;
  };
  const addJob = async (): Promise<number> => {
    const id = ++nextId;
    await pool.query(`INSERT INTO test_job (id) VALUES ($1)`, [id]);
    return id;
  };
  const row = async (
    id: number,
  ): Promise<{ status: string; attempts: number; done_by: string | null; leased: boolean }> =>
    (await pool.query(`SELECT status, attempts, done_by, due_at > now() AS leased FROM test_job WHERE id = $1`, [id]))
      .rows[0];

  beforeAll(async () => {
    pool = new Pool({ connectionString: await createTestDatabase(), max: 4 });
    await pool.query(
      `CREATE TABLE test_job (id int PRIMARY KEY, status text NOT NULL DEFAULT 'PENDING', attempts int NOT NULL DEFAULT 0, due_at timestamptz NOT NULL DEFAULT now(), done_by text)`,
    );
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.drain(Date.now())));
  });

  afterAll(async () => {
    await pool?.end();
  });

  it('takes up a job whose lease expired, and ignores the late settle of the old attempt', async () => {
    const first = new TableHandler(pool, 'first');
    const id = await addJob();
    first.hold(id);
    // One slot, held by the hanging attempt: this worker claims nothing more meanwhile.
    runner(first, 1, 1);
    await waitUntil('the first worker claimed the job', async () => (await row(id)).attempts === 1);

    // The first worker hangs past its lease: another takes the job up and settles it.
    const second = new TableHandler(pool, 'second');
    runner(second, 30);
    await waitUntil('the second worker settled the job', async () => (await row(id)).status === 'DONE');
    expect(await row(id)).toMatchObject({ attempts: 2, done_by: 'second' });
    expect(second.recorded).toEqual([{ id, attempt: 2, landed: true }]);

    // The first attempt ends at last: its settle lands but changes nothing.
    first.held.get(id)!();
    await waitUntil('the first worker settled its attempt', () => first.recorded.length === 1);
    expect(first.recorded).toEqual([{ id, attempt: 1, landed: false }]);
    expect(await row(id)).toMatchObject({ status: 'DONE', attempts: 2, done_by: 'second' });
  });

  it('retries a settle that fails until it lands', async () => {
    const handler = new TableHandler(pool, 'only');
    handler.settleFailures = 3;
    const id = await addJob();
    runner(handler, 30);
    await waitUntil('the settle landed', async () => (await row(id)).status === 'DONE');
    expect(handler.settleCalls).toBe(4);
    expect(handler.handled).toHaveLength(1);
    expect(handler.recorded).toEqual([{ id, attempt: 1, landed: true }]);
  });

  it('at the drain deadline, records the jobs that finished and leaves the others to their lease', async () => {
    const handler = new TableHandler(pool, 'leaving');
    const quick = await addJob();
    const stuck = await addJob();
    handler.hold(stuck);
    const leaving = runner(handler, 3);
    await waitUntil(
      'both jobs claimed, the quick one settled',
      async () => (await row(stuck)).attempts === 1 && (await row(quick)).status === 'DONE',
    );

    await leaving.drain(Date.now() + 300);
    expect(await row(quick)).toMatchObject({ status: 'DONE', done_by: 'leaving' });
    // Still leased: nobody takes it before its lease ends.
    expect(await row(stuck)).toMatchObject({ status: 'RUNNING', attempts: 1, leased: true });

    // Its attempt ends after the deadline: the outcome is not written (the process is leaving).
    handler.held.get(stuck)!();
    await waitUntil('the stuck attempt ended', () => handler.handled.some((o) => o.id === stuck));
    // Its task is over (a settle, had there been one, came before): the runner holds nothing.
    await waitUntil('the stuck attempt out of the runner', () => leaving.inHand === 0);
    expect(handler.recorded.map((r) => r.id)).toEqual([quick]);
    expect(await row(stuck)).toMatchObject({ status: 'RUNNING', attempts: 1 });

    // When the lease ends, another worker takes it up.
    runner(new TableHandler(pool, 'next'), 30);
    await waitUntil(
      'the next worker settled the job left to its lease',
      async () => (await row(stuck)).status === 'DONE',
    );
    expect(await row(stuck)).toMatchObject({ attempts: 2, done_by: 'next' });
  });

  it('a nudge while every slot is taken waits for a slot to free', async () => {
    const handler = new TableHandler(pool, 'full');
    const first = await addJob();
    handler.hold(first);
    const full = runner(handler, 30, 1);
    await waitUntil('the only slot taken', async () => (await row(first)).attempts === 1);
    // New work while full: the runner claims it once the slot frees (and keeps yielding meanwhile,
    // or the timers of this test would never fire).
    const second = await addJob();
    full.nudge();
    full.nudge();
    handler.held.get(first)!();
    await waitUntil('the second job settled', async () => (await row(second)).status === 'DONE');
    expect(handler.recorded.map((r) => r.id)).toEqual([first, second]);
  });

  it('a job whose attempt throws is left to its lease; the runner goes on', async () => {
    const handler = new TableHandler(pool, 'throws');
    const failing = await addJob();
    const fine = await addJob();
    const handle = handler.handle.bind(handler);
    handler.handle = async (job) => (job.id === failing ? Promise.reject(new Error('bug')) : handle(job));
    runner(handler, 30);
    await waitUntil('the other job settled', async () => (await row(fine)).status === 'DONE');
    expect(await row(failing)).toMatchObject({ status: 'RUNNING', attempts: 1, leased: true });
  });
});
