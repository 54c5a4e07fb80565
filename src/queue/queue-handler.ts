/**
 * What a queue does with its jobs; the runner (QueueRunner) decides when. A job is a row claimed
 * with a lease: while the lease runs nobody else takes it, and a worker that dies leaves it to be
 * taken up again when the lease runs out. Each claim numbers its attempt and each outcome names
 * that number, so the settle of an attempt whose lease ran out (and was claimed again) changes
 * nothing.
 *
 * `O` is an attempt's outcome, `R` what its settle says about it (e.g. the status the row now has,
 * or null when the row was no longer this attempt's).
 */
export interface QueueHandler<J, O, R = void> {
  /** Names the queue in logs and its LISTEN channel (`queue_<name>`, see queueChannel). */
  readonly name: string;

  /**
   * Claims up to `limit` due jobs, each leased for `leaseSeconds`, in one statement (`SKIP
   * LOCKED`: workers never wait on each other). `running` are the jobs this runner has in hand.
   */
  claim(limit: number, leaseSeconds: number, running: readonly J[]): Promise<J[]>;

  /**
   * One attempt, ending in an outcome to settle; it should catch what it can turn into an outcome
   * (a retry, a failure). What it throws leaves the job to its lease.
   */
  handle(job: J): Promise<O>;

  /**
   * Records many outcomes in one write; the results in the order of `outcomes`. Called again with
   * the same outcomes when it throws (the database refusing for a moment), so it must be safe to
   * repeat.
   */
  settle(outcomes: O[]): Promise<R[]>;

  /** After the outcome of `job` is committed, in the job's context (logs, metrics). */
  settled?(job: J, outcome: O, result: R | undefined): void;

  /** Runs a job's attempt and its `settled` inside a context of the job's (its correlation id). */
  context?<T>(job: J, work: () => Promise<T>): Promise<T>;

  /**
   * Whether the claim leaves due work aside because of `running` (a share per key): then a job that
   * ends wakes the runner at once instead of at the next poll.
   */
  heldBack?(running: readonly J[]): boolean;
}

export interface QueueOptions {
  /** Jobs in hand at once. */
  concurrency: number;
  /** Longer than an attempt may last (every timeout inside it is shorter). */
  leaseSeconds: number;
  /** The longest pause between two claims when nothing is due (a nudge ends it early). */
  pollMs: number;
}

/** The Postgres channel that wakes the runners of queue `name` in every process. */
export function queueChannel(name: string): string {
  return `queue_${name}`;
}
