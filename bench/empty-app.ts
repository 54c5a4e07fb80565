/**
 * The reference of the framework overhead: an empty Nest-on-Fastify app with one controller
 * answering `GET /health` with `{status:'ok'}`, and `GET /events` holding a bare Server-Sent Events
 * stream open (the reference of the memory of open streams), run by the bench as its own child process.
 */
import { Controller, Get, Module, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';

@Controller()
class HealthController {
  @Get('health')
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Get('events')
  events(@Res() reply: FastifyReply): void {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    reply.request.raw.socket.setTimeout(0);
    reply.raw.write('retry: 2000\n\n');
  }
}

@Module({ controllers: [HealthController] })
class EmptyModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(EmptyModule, new FastifyAdapter(), { logger: false });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT), '127.0.0.1');
}

void bootstrap();
