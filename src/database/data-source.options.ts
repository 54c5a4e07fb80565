import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { guardedPg } from './guarded-pg';
import { IdempotencyKeyEntity } from '../common/idempotency/idempotency-key.entity';
import { ContactMessageEntity } from '../contacts/contact-message.entity';
import { ConversationEntity } from '../conversations/conversation.entity';
import { MessageEntity } from '../conversations/message.entity';
import { DeliveryEntity } from '../mails/delivery.entity';
import { MailEntity } from '../mails/mail.entity';
import { RecipientEntity } from '../recipients/recipient.entity';

/** How long a request waits for a database connection before it is answered 503. */
export const DATABASE_CONNECT_TIMEOUT_MS = 5000;

/**
 * Every entity of the service, listed once for the app and the TypeORM CLI. Tables without an
 * entity are read and written through SQL of their own (the queue's attempts, events, webhooks,
 * suppressions, read markers, timelines, `rate_limit` of rate-limiter-flexible).
 */
export const ENTITIES = [
  MailEntity,
  DeliveryEntity,
  RecipientEntity,
  IdempotencyKeyEntity,
  ContactMessageEntity,
  ConversationEntity,
  MessageEntity,
];

export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    // node-postgres whose connections never end the process with an unheard `error` event.
    driver: guardedPg,
    entities: ENTITIES,
    // Compiled: dist/migrations/*.js; under ts-node or jest: migrations/*.ts.
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{js,ts}')],
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    // A database that cannot be reached fails a request within seconds (answered 503), instead of
    // leaving it waiting for a connection; keep-alive notices a peer that vanished without a word.
    extra: { max: poolSize, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS, keepAlive: true },
  };
}
