import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { ApiExceptionFilter } from './common/errors/api-exception.filter';
import { ApiValidationPipe } from './common/errors/validation.pipe';
import { AppConfig } from './config/app.config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source.options';
import { DeliveryModule } from './delivery/delivery.module';
import { DocsModule } from './docs/docs.module';
import { ContactsModule } from './contacts/contacts.module';
import { EventsModule } from './events/events.module';
import { ConversationsModule } from './conversations/conversations.module';
import { FilesModule } from './files/files.module';
import { HealthModule } from './health/health.module';
import { InboundModule } from './inbound/inbound.module';
import { MailsModule } from './mails/mails.module';
import { RecipientsModule } from './recipients/recipients.module';
import { TemplatesModule } from './templates/templates.module';
import { RetentionModule } from './retention/retention.module';
import { SuppressionsModule } from './suppressions/suppressions.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { APP_LOGGER, createLogger, pinoParams } from './logging';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { CommonModule } from './common/common.module';
import { QueueModule } from './queue/queue.module';

@Module({})
export class AppModule {
  /** `logDestination` lets tests read the JSON log lines; by default they go to stdout. */
  static register(config: AppConfig, options: { logDestination?: NodeJS.WritableStream } = {}): DynamicModule {
    const logger = createLogger(config, options.logDestination);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(pinoParams(logger)),
        TypeOrmModule.forRoot({
          ...dataSourceOptions(config.database.url, config.database.poolSize),
          migrationsRun: config.database.migrateOnStart,
        }),
        CommonModule,
        EventsModule,
        QueueModule,
        AuthModule,
        RateLimitModule,
        HealthModule,
        RecipientsModule,
        MailsModule,
        DeliveryModule,
        TemplatesModule,
        ContactsModule,
        ConversationsModule,
        SuppressionsModule,
        RetentionModule,
        FilesModule,
        WebhooksModule,
        InboundModule,
        DocsModule,
      ],
      providers: [
        { provide: APP_LOGGER, useValue: logger },
        { provide: APP_PIPE, useClass: ApiValidationPipe },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        // Order matters: the rate limit counts per caller, so the auth guard names the caller first.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
        // No interceptor: Nest runs each route that has one through an rxjs pipeline and two
        // AsyncResource bindings. Idempotency is a guard on the POST routes (@Idempotent);
        // HttpResult and Location are applied by a Fastify hook.
      ],
    };
  }
}
