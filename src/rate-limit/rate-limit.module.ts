import { Global, Module } from '@nestjs/common';
import { RateLimits } from './rate-limits';

/** Limits kept in Postgres. Its guard is registered in AppModule, after the auth guard. */
@Global()
@Module({
  providers: [RateLimits],
  exports: [RateLimits],
})
export class RateLimitModule {}
