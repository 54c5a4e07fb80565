import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { IdempotencyKeyEntity } from './idempotency-key.entity';

/** One caller's key on one endpoint. */
export interface KeyScope {
  caller: string;
  scope: string;
  key: string;
}

export interface StoredResponse {
  requestHash: string;
  statusCode: number;
  body: unknown;
  headers: Record<string, string>;
}

/** Keys are kept 24 hours; an older one is free again. */
const TTL = `interval '24 hours'`;

@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The answer stored under this key within 24 hours, if any (read through `manager` when given). */
  async find(id: KeyScope, manager?: EntityManager): Promise<IdempotencyKeyEntity | null> {
    const rows: IdempotencyKeyEntity[] = await (manager ?? this.dataSource.manager).query(
      `SELECT request_hash AS "requestHash", status_code AS "statusCode", response_body AS "responseBody", response_headers AS "responseHeaders"
       FROM idempotency_key WHERE caller = $1 AND scope = $2 AND key = $3 AND created_at > now() - ${TTL}`,
      [id.caller, id.scope, id.key],
    );
    return rows[0] ?? null;
  }

  /**
   * Stores the answer through `manager`, the transaction that does the request's work, so one
   * never commits without the other. False when the key is already taken: a concurrent request
   * with the same key waits here for the first one's commit, then finds it.
   */
  async store(id: KeyScope, response: StoredResponse, manager: EntityManager): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO idempotency_key (caller, scope, key, request_hash, status_code, response_body, response_headers, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (caller, scope, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code, response_body = EXCLUDED.response_body,
             response_headers = EXCLUDED.response_headers, created_at = now()
         WHERE idempotency_key.created_at <= now() - ${TTL}
       RETURNING 1`,
      [
        id.caller,
        id.scope,
        id.key,
        response.requestHash,
        response.statusCode,
        JSON.stringify(response.body ?? null),
        response.headers,
      ],
    );
    return rows.length > 0;
  }
}
