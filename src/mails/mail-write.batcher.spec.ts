import { MailWithDeliveries } from './mail.entity';
import { MailInserter } from './mail.inserter';
import { MailWriteBatcher } from './mail-write.batcher';

/** A mail row with `receivers` deliveries; only its id and sizes matter to the batcher. */
function row(id: string, receivers = 1): MailWithDeliveries {
  return {
    mail: { id } as MailWithDeliveries['mail'],
    deliveries: Array.from({ length: receivers }, () => ({}) as MailWithDeliveries['deliveries'][number]),
  };
}

describe('MailWriteBatcher', () => {
  /** Records each insert; fails any statement holding a mail whose id starts with "bad". */
  function inserter(): { statements: string[][]; repo: MailInserter } {
    const statements: string[][] = [];
    const repo = {
      insert: async (rows: MailWithDeliveries[]) => {
        statements.push(rows.map((r) => r.mail.id));
        // A fixed turn on purpose: the write takes time (the subject), and the requests made meanwhile arrive during it.
        await new Promise((resolve) => setImmediate(resolve));
        if (rows.some((r) => r.mail.id.startsWith('bad'))) throw new Error('constraint violated');
      },
    } as unknown as MailInserter;
    return { statements, repo };
  }

  it('writes the requests that arrive during a write together, in the next statement', async () => {
    const { statements, repo } = inserter();
    const batcher = new MailWriteBatcher(repo);
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => batcher.write([row(id)])));
    expect(statements).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('answers each request of a failed group on its own: one bad row does not fail its neighbours', async () => {
    const { statements, repo } = inserter();
    const batcher = new MailWriteBatcher(repo);
    const outcomes = await Promise.allSettled(['first', 'ok-1', 'bad-1', 'ok-2'].map((id) => batcher.write([row(id)])));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(statements).toEqual([['first'], ['ok-1', 'bad-1', 'ok-2'], ['ok-1'], ['bad-1'], ['ok-2']]);
  });

  it('keeps a statement within 5,000 deliveries, taking at least one request', async () => {
    const { statements, repo } = inserter();
    const batcher = new MailWriteBatcher(repo);
    await Promise.all([
      batcher.write([row('first')]),
      batcher.write([row('big-1', 3000)]),
      batcher.write([row('big-2', 3000)]),
      batcher.write([row('huge', 6000)]),
    ]);
    expect(statements).toEqual([['first'], ['big-1'], ['big-2'], ['huge']]);
  });
});
