/**
 * The bare references: what a hand-written script does with the same rows or the same sink, with
 * none of the service's framework around it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { createTransport } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { Pool, PoolClient } from 'pg';
import { load, LoadResult } from './harness';

export const BENCH_CATEGORY = 'CLIENT_PAYMENT_NOTIFICATION';

/** The event posted to the service; the reference writes the rows the service makes of it. */
export function mailEvent(
  i: number,
  receivers: number,
): { receiversId: string[]; category: string; reservationId: string } {
  return { receiversId: [`bench-user-${i % receivers}`], category: BENCH_CATEGORY, reservationId: `RES-${i}` };
}

/**
 * One mail as the service stores it, in one transaction: the `mail` row with its delivery
 * counter, one `delivery` row per receiver (the queue the workers claim from) and, when the request
 * carries an Idempotency-Key, its `idempotency_key` row with the answer.
 */
export async function insertMailLikeTheService(
  client: PoolClient,
  i: number,
  receivers: number,
  answer?: { key: string; body: string },
): Promise<void> {
  const event = mailEvent(i, receivers);
  const mailId = randomUUID();
  const deliveryId = randomUUID();
  const now = new Date();
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO mail (id, category, receivers_id, publication_id, reservation_id, product_type, organization_id, establishment_id,
                         variables, locale, test_mode, status, correlation_id, scheduled_at, deliveries_total, created_at, updated_at)
       VALUES ($1, $2, $3, NULL, $4, NULL, NULL, NULL, '{}', NULL, false, 'PENDING', $5, NULL, 1, $6, $6)`,
      [mailId, event.category, event.receiversId, event.reservationId, randomUUID(), now],
    );
    await client.query(
      `INSERT INTO delivery (id, mail_id, position, receiver_id, status, message_id, due_at, first_due_at, updated_at)
       VALUES ($1, $2, 0, $3, 'PENDING', $4, $5, $5, $5)`,
      [deliveryId, mailId, event.receiversId[0], `<${deliveryId}@example.com>`, now],
    );
    if (answer) {
      await client.query(
        `INSERT INTO idempotency_key (caller, scope, key, request_hash, status_code, response_body, response_headers, created_at)
         VALUES ('bench', 'POST /v1/mails', $1, $2, 202, $3, '{}', now())`,
        [answer.key, createHash('sha256').update(JSON.stringify(event)).digest('hex'), answer.body],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/** The bare `pg` reference of row 1: `concurrency` callers, one transaction per mail. */
export async function bareMailInserts(
  databaseUrl: string,
  seconds: number,
  concurrency: number,
  receivers: number,
  withKeys?: string,
): Promise<LoadResult> {
  const pool = new Pool({ connectionString: databaseUrl, max: concurrency });
  pool.on('error', () => undefined);
  try {
    // Connections are opened before the clock starts, as the service's pool is warm.
    const warm = await Promise.all(Array.from({ length: concurrency }, () => pool.connect()));
    warm.forEach((c) => c.release());
    return await load({ seconds }, concurrency, async (i) => {
      const client = await pool.connect();
      try {
        await insertMailLikeTheService(
          client,
          i,
          receivers,
          withKeys === undefined ? undefined : { key: `bare-${randomUUID()}`, body: withKeys },
        );
      } finally {
        client.release();
      }
    });
  } finally {
    await pool.end();
  }
}

/**
 * The reference of the batch row: `size` mails and their deliveries per transaction, each table in
 * one multi-row insert fed by arrays (the fastest plain way to write them).
 */
export async function bareBatchInserts(
  databaseUrl: string,
  batches: number,
  size: number,
  concurrency: number,
  receivers: number,
): Promise<LoadResult> {
  const pool = new Pool({ connectionString: databaseUrl, max: concurrency });
  pool.on('error', () => undefined);
  try {
    return await load({ total: batches }, concurrency, async (b) => {
      const events = Array.from({ length: size }, (_, j) => mailEvent(b * size + j, receivers));
      const ids = events.map(() => randomUUID());
      const deliveryIds = events.map(() => randomUUID());
      const now = new Date();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO mail (id, category, receivers_id, reservation_id, variables, test_mode, status, correlation_id, deliveries_total, created_at, updated_at)
           SELECT id, category, ARRAY[receiver], reservation_id, '{}', false, 'PENDING', $5, 1, $6, $6
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t (id, category, receiver, reservation_id)`,
          [
            ids,
            events.map((e) => e.category),
            events.map((e) => e.receiversId[0]),
            events.map((e) => e.reservationId),
            randomUUID(),
            now,
          ],
        );
        await client.query(
          `INSERT INTO delivery (id, mail_id, position, receiver_id, status, message_id, due_at, first_due_at, updated_at)
           SELECT id, mail_id, 0, receiver, 'PENDING', '<' || id || '@example.com>', $4, $4, $4
           FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS t (id, mail_id, receiver)`,
          [deliveryIds, ids, events.map((e) => e.receiversId[0]), now],
        );
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    });
  } finally {
    await pool.end();
  }
}

/**
 * The delivery reference: a bare nodemailer pool of `poolSize` connections with Nagle's algorithm
 * off on its sockets (as the service's transport), resending the raw bytes of a mail the worker
 * rendered, `total` times, to the same sink.
 */
export async function bareNodemailer(
  sinkPort: number,
  poolSize: number,
  total: number,
  message: { from: string; to: string[]; raw: Buffer },
): Promise<number> {
  const transport = createTransport({
    host: '127.0.0.1',
    port: sinkPort,
    secure: false,
    pool: true,
    maxConnections: poolSize,
    maxMessages: 1000,
    getSocket: (_options: unknown, callback: (error: Error | null, socket?: { socket: Socket }) => void) => {
      const socket = new Socket();
      socket.setNoDelay(true);
      callback(null, { socket });
    },
  } as SMTPPool.Options);
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: total }, () =>
        transport.sendMail({ envelope: { from: message.from, to: message.to }, raw: message.raw }),
      ),
    );
  } finally {
    transport.close();
  }
  return total / ((performance.now() - started) / 1000);
}
