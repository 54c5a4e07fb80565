import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from '../app.module';
import { loadConfig } from '../config/app.config';
import { fastifyOptions, NEST_HTTP_OPTIONS } from '../http-server.options';
import { buildOpenApiDocument } from '../openapi';
import { openApiYaml } from './openapi-yaml';

/**
 * Writes openapi/communication.yaml from the compiled app (`npm run openapi`), or the file named by
 * the first argument (`-`: standard output). The module graph is only previewed: nothing connects
 * to a database or an SMTP server.
 */
async function generate(): Promise<void> {
  const config = loadConfig({
    DATABASE_URL: 'postgres://localhost/unused',
    SMTP_URL: 'smtp://localhost:25',
    LOG_LEVEL: 'silent',
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config),
    new FastifyAdapter(fastifyOptions(config)),
    { ...NEST_HTTP_OPTIONS, preview: true, logger: false },
  );
  const document = buildOpenApiDocument(app);
  const text = openApiYaml(document);
  await app.close();
  const target = process.argv[2] ?? join(__dirname, '..', '..', '..', 'openapi', 'communication.yaml');
  if (target === '-') return void process.stdout.write(text);
  mkdirSync(join(target, '..'), { recursive: true });
  writeFileSync(target, text);
  process.stdout.write(`Wrote ${target}\n`);
}

void generate();
