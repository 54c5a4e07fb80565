import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IdempotencyKeyEntity } from './idempotency-key.entity';

export type Claim = { claimed: true } | { claimed: false; existing: IdempotencyKeyEntity };

@Injectable()
export class IdempotencyRepository {
  private readonly repository;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repository = dataSource.getRepository(IdempotencyKeyEntity);
  }

  /**
   * Takes the key for this request, atomically. A key older than 24 h is free again, and so is one
   * left pending for over a minute by a process that died mid-request.
   */
  async claim(scope: string, key: string, requestHash: string): Promise<Claim> {
    const inserted: unknown[] = await this.repository.query(
      `INSERT INTO idempotency_key (scope, key, request_hash, created_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (scope, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, created_at = now(), status_code = NULL, response_body = NULL, response_headers = NULL
         WHERE idempotency_key.created_at < now() - interval '24 hours'
            OR (idempotency_key.status_code IS NULL AND idempotency_key.created_at < now() - interval '60 seconds')
       RETURNING 1`,
      [scope, key, requestHash],
    );
    if (inserted.length > 0) return { claimed: true };
    const existing = await this.repository.findOneByOrFail({ scope, key });
    return { claimed: false, existing };
  }

  async complete(scope: string, key: string, statusCode: number, body: unknown, headers: Record<string, string>): Promise<void> {
    await this.repository.update({ scope, key }, { statusCode, responseBody: body as object, responseHeaders: headers });
  }

  async release(scope: string, key: string): Promise<void> {
    await this.repository.delete({ scope, key });
  }
}
