import { Global, Module } from '@nestjs/common';
import { EventStreamHub } from './event-stream.hub';
import { EventsRepository } from './events.repository';

/** The outbox every feature writes its events to (global: contacts, conversations and mails all write). */
@Global()
@Module({
  providers: [EventsRepository, EventStreamHub],
  exports: [EventsRepository, EventStreamHub],
})
export class EventsModule {}
