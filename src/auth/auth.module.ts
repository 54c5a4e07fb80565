import { Module } from '@nestjs/common';
import { Authenticator } from './authenticator';

/** Who is calling: API keys and JWT verification. Its guard is registered in AppModule, before the rate limit's. */
@Module({
  providers: [Authenticator],
  exports: [Authenticator],
})
export class AuthModule {}
