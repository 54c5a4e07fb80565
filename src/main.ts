import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { loadConfig } from './config/app.config';
import { fastifyOptions, NEST_HTTP_OPTIONS } from './http-server.options';
import { startLocalServices } from './local-services';
import { startFailure } from './start-failure';

async function bootstrap(): Promise<void> {
  // A .env file complements the environment (variables already set win).
  if (existsSync('.env')) process.loadEnvFile('.env');
  // Locally, a missing DATABASE_URL or SMTP_URL starts an embedded Postgres or SMTP inbox.
  const local = await startLocalServices(process.env);
  const config = loadConfig({ ...process.env, ...local.env });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config),
    new FastifyAdapter(fastifyOptions(config)),
    { ...NEST_HTTP_OPTIONS, bufferLogs: true },
  );
  configureApp(app, config);
  exitWithinGrace(config.delivery.shutdownGraceSeconds);
  await app.listen(config.http.port, '0.0.0.0');
  const base = config.http.publicBaseUrl ?? `http://localhost:${config.http.port}`;
  const lines = [
    `communication is running (RUN_MODE=${config.runMode})`,
    config.runMode !== 'worker' ? `  API          ${base}/v1` : '',
    config.runMode !== 'worker' ? `  Swagger UI   ${base}/docs` : '',
    `  Health       ${base}/health/ready    Metrics ${base}/metrics`,
    ...local.banner,
  ];
  process.stdout.write(`\n${lines.filter(Boolean).join('\n')}\n\n`);
}

/**
 * On SIGTERM or SIGINT Nest closes the app (the worker drains within the grace period, see
 * MailDeliveryWorker); whatever still hangs then (a stalled relay, an unreachable database), the
 * process is gone at the end of the grace period, as an orchestrator expects.
 */
function exitWithinGrace(graceSeconds: number): void {
  const arm = (signal: NodeJS.Signals) => () => {
    setTimeout(() => {
      process.stderr.write(`communication: still stopping ${graceSeconds} s after ${signal}; exiting now\n`);
      process.exit(1);
    }, graceSeconds * 1000).unref();
  };
  process.once('SIGTERM', arm('SIGTERM'));
  process.once('SIGINT', arm('SIGINT'));
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`${startFailure(error)}\n`);
  process.exit(1);
});
