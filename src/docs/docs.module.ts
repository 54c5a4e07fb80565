import { Module } from '@nestjs/common';
import { ErrorsDocsController } from './errors-docs.controller';

/** The pages under /docs beside Swagger UI: the error catalogue every error body links into. */
@Module({
  controllers: [ErrorsDocsController],
})
export class DocsModule {}
