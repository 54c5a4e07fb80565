import { Global, Module } from '@nestjs/common';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { LinksBuilder } from './links/links.builder';

/** Cross-cutting pieces every feature module uses. */
@Global()
@Module({
  providers: [LinksBuilder, IdempotencyRepository],
  exports: [LinksBuilder, IdempotencyRepository],
})
export class CommonModule {}
