import { Global, Module } from '@nestjs/common';
import { MaintenanceJob } from './maintenance.job';
import { Queues } from './queues';

/** The lease runner shared by every queue (mail deliveries, webhook calls) and the one maintenance job. */
@Global()
@Module({
  providers: [Queues, MaintenanceJob],
  exports: [Queues],
})
export class QueueModule {}
