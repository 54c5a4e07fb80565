import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { loadConfig } from './config/app.config';
import { DataDirectoryInUse } from './database/embedded-postgres';
import { fastifyOptions, NEST_HTTP_OPTIONS } from './http-server.options';
import { LocalServices, startLocalServices } from './local-services';
import { APP_LOGGER } from './logging';
import { announceStart } from './start-banner';
import { startFailure } from './start-failure';

/** What a stop has to stop, filled in as the start goes (a signal may come at any point of it). */
const running: { app?: NestFastifyApplication; local?: LocalServices; logger?: Logger; graceSeconds: number } = {
  graceSeconds: 25,
};

async function bootstrap(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  // A .env file complements the environment (variables already set win).
  if (existsSync('.env')) process.loadEnvFile('.env');
  // Locally, a missing DATABASE_URL or SMTP_URL starts an embedded Postgres or SMTP inbox.
  running.local = await startLocalServices(process.env).catch(async (error: unknown) => {
    // The same checkout started twice: say whether the port is taken too, in the same line.
    if (error instanceof DataDirectoryInUse) error.portInUse = await portTaken(process.env.PORT ?? '3000');
    throw error;
  });
  const config = loadConfig({ ...process.env, ...running.local.env });
  running.graceSeconds = config.delivery.shutdownGraceSeconds;
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config),
    new FastifyAdapter(fastifyOptions(config)),
    // Nest's own lines before configureApp sets the logger are kept and then written through it.
    { ...NEST_HTTP_OPTIONS, bufferLogs: true },
  );
  running.app = app;
  running.logger = app.get<Logger>(APP_LOGGER);
  configureApp(app, config);
  await app.listen(config.http.port, '0.0.0.0');
  announceStart(running.logger, config, running.local);
}

/**
 * SIGTERM, SIGINT (Ctrl-C) or SIGHUP: one line, then the service stops (the worker drains within
 * the grace period, see src/queue/queues.ts) and only then what it uses locally (its embedded
 * Postgres, which runs outside the terminal's process group so that the same Ctrl-C does not cut
 * it first); exit 0. Whatever still hangs at the end of the grace period (a stalled relay, an
 * unreachable database), the process is gone then, as an orchestrator expects.
 */
function stop(signal: NodeJS.Signals): void {
  // One Ctrl-C reaches the service twice (from the terminal, and forwarded by npm): the first counts.
  if (stopping) return;
  stopping = true;
  say('info', `communication is stopping (${signal})`);
  setTimeout(() => {
    say('error', `communication: still stopping ${running.graceSeconds} s after ${signal}; exiting now`);
    process.exit(1);
  }, running.graceSeconds * 1000).unref();
  void (async () => {
    let code = 0;
    for (const part of [running.app, running.local]) {
      try {
        await part?.close?.();
      } catch (error) {
        running.logger?.error({ err: error }, 'Stopping failed');
        code = 1;
      }
    }
    process.exit(code);
  })();
}
let stopping = false;

/** A line through the service's logger once it exists (JSON or readable, as configured), else plain text. */
function say(level: 'info' | 'error', message: string): void {
  if (running.logger) running.logger[level](message);
  else (level === 'error' ? process.stderr : process.stdout).write(`${message}\n`);
}

/** `port` when something already listens on it, as the service would (all interfaces). */
function portTaken(port: string): Promise<number | undefined> {
  const number = Number(port);
  if (!Number.isInteger(number) || number <= 0 || number > 65535) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE' ? number : undefined));
    server.listen(number, '0.0.0.0', () => server.close(() => resolve(undefined)));
  });
}

bootstrap().catch(async (error: unknown) => {
  process.stderr.write(`${startFailure(error)}\n`);
  // What was started before the failure (an embedded Postgres) does not outlive the attempt.
  await running.app?.close().catch(() => undefined);
  await running.local?.close().catch(() => undefined);
  process.exit(1);
});
