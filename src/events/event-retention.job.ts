import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../config/app.config';
import { EventsRepository } from './events.repository';

const EVERY_MS = 15 * 60 * 1000;

/** Deletes events past their 24 h retention, every 15 minutes, on the worker side. */
@Injectable()
export class EventRetentionJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventRetentionJob.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly events: EventsRepository,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.runMode === 'api') return;
    this.timer = setInterval(() => void this.run(), EVERY_MS);
    this.timer.unref();
  }

  async run(): Promise<number> {
    try {
      const deleted = await this.events.deleteExpired();
      if (deleted) this.logger.log({ deleted }, 'Expired events deleted');
      return deleted;
    } catch (error) {
      this.logger.warn({ err: error }, 'Could not delete expired events; trying again later');
      return 0;
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
