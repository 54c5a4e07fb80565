import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Writable } from 'node:stream';
import { AppModule } from '../src/app.module';
import { configureApp } from '../src/app.setup';
import { AppConfig, loadConfig } from '../src/config/app.config';
import { Env } from '../src/config/env.reader';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { fastifyOptions, NEST_HTTP_OPTIONS } from '../src/http-server.options';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  config: AppConfig;
  close(): Promise<void>;
}

/** A fresh database of its own for a spec file, in the run's Postgres. */
export async function createTestDatabase(): Promise<string> {
  const admin = process.env.TEST_ADMIN_DATABASE_URL;
  if (!admin) throw new Error('TEST_ADMIN_DATABASE_URL is not set: run the tests through jest (global-setup.ts)');
  const name = `test_${process.env.TEST_RUN_ID ?? 'adhoc'}_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startInbox(): Promise<SmtpInbox> {
  const inbox = new SmtpInbox();
  await inbox.start(0);
  return inbox;
}

/** Log lines written by an app, parsed, for tests that read the logs. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n'))
      if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
}

/**
 * The real service on a real port, against a real Postgres and a real SMTP server. Retries are
 * quick (1 s base) so the retry tests run in seconds.
 */
export async function startApp(options: {
  databaseUrl: string;
  smtpUrl: string;
  env?: Env;
  logs?: LogCapture;
}): Promise<TestApp> {
  const config = loadConfig({
    DATABASE_URL: options.databaseUrl,
    SMTP_URL: options.smtpUrl,
    LOG_LEVEL: options.logs ? 'info' : 'silent',
    LOG_FORMAT: 'json',
    DELIVERY_RETRY_BASE_SECONDS: '1',
    DELIVERY_RETRY_MAX_SECONDS: '2',
    DELIVERY_MAX_ATTEMPTS: '7',
    DELIVERY_POLLING_INTERVAL_SECONDS: '1',
    MAIL_FROM: 'Voyages <no-reply@voyages.test>',
    FRONTEND_BASE_URL: 'https://app.voyages.test',
    // Every spec calls from 127.0.0.1: limits are off unless a spec sets them (rate-limit.e2e-spec.ts).
    RATE_LIMIT_PER_MINUTE: '0',
    CONTACT_RATE_LIMIT_PER_HOUR: '0',
    // Any free port: specs run apps side by side (the listener says which: InboundSmtpListener.port).
    INBOUND_SMTP_PORT: '0',
    ...options.env,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, { logDestination: options.logs }),
    new FastifyAdapter(fastifyOptions(config)),
    { ...NEST_HTTP_OPTIONS, logger: false },
  );
  configureApp(app, config);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, config, close: () => app.close() };
}
