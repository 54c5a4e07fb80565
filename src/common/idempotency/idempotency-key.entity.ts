import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** The first answer to a POST sent with an Idempotency-Key, replayed for 24 hours. */
@Entity('idempotency_key')
// Written by hand in migrations/ (IdempotencyKeyAge1765000091000), named here so that a generated
// migration leaves it alone (test/schema.e2e-spec.ts): the maintenance job deletes keys by age.
@Index('idempotency_key_created_idx', { synchronize: false })
export class IdempotencyKeyEntity {
  /** Who used the key (an API key name, `sub:<token sub>`, `ip:<address>` without a token; '' when AUTH_MODE=off): callers never share keys. */
  @PrimaryColumn({ type: 'text', default: '' })
  caller: string;

  /** Method and path the key was used on: the same key on another endpoint is another key. */
  @PrimaryColumn({ type: 'text' })
  scope: string;

  @PrimaryColumn({ type: 'text' })
  key: string;

  /** SHA-256 of the request body, to tell a replay from a different request. */
  @Column({ name: 'request_hash', type: 'text' })
  requestHash: string;

  @Column({ name: 'status_code', type: 'int', nullable: true })
  statusCode: number | null;

  @Column({ name: 'response_body', type: 'jsonb', nullable: true })
  responseBody: unknown;

  @Column({ name: 'response_headers', type: 'jsonb', nullable: true })
  responseHeaders: Record<string, string> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
