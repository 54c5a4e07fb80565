import { Global, Module } from '@nestjs/common';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { IdempotencyService } from './idempotency/idempotency.service';
import { ErrorsDocsController } from './errors/errors-docs.controller';
import { LinksBuilder } from './links/links.builder';

/** Cross-cutting pieces every feature module uses. */
@Global()
@Module({
  controllers: [ErrorsDocsController],
  providers: [LinksBuilder, IdempotencyRepository, IdempotencyService],
  exports: [LinksBuilder, IdempotencyRepository, IdempotencyService],
})
export class CommonModule {}
