import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiError, ErrorDetail } from '../common/errors/api-error';
import { DATABASE_RETRY_AFTER_SECONDS } from '../common/errors/database-unavailable';
import { Access, Probe } from '../auth/access.decorator';
import { MetricsService } from '../common/metrics/metrics.service';
import { SmtpProbe } from './smtp.probe';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly smtp: SmtpProbe,
    private readonly metrics: MetricsService,
  ) {}

  /** Liveness: the process answers. */
  @Get('health')
  @Probe()
  live(): { status: string } {
    return { status: 'ok' };
  }

  /** Readiness: the database is reachable (503 otherwise); the SMTP relay's state is shown, not required. */
  @Get('health/ready')
  @Probe()
  @HealthCheck()
  async ready(): Promise<HealthCheckResult> {
    // Mails are accepted and queued while the relay is down: its state (in the body and in
    // `smtp_up`) must not take the instance out of service.
    const [smtp, database] = await Promise.all([
      this.smtp.state(),
      this.health
        .check([() => this.database.pingCheck('database', { timeout: 3000 })])
        .catch((error: unknown) => error),
    ]);
    if (database instanceof ServiceUnavailableException) {
      const failed = (database.getResponse() as HealthCheckResult).error ?? {};
      const details: ErrorDetail[] = Object.entries(failed).map(([field, check]) => ({
        field,
        issue: String(check?.message ?? 'is down'),
      }));
      if (smtp.status === 'down')
        details.push({ field: 'smtp', issue: `is down (not required for readiness): ${smtp.message ?? ''}` });
      throw new ApiError('SERVICE_UNAVAILABLE', 'The database cannot be reached.', details, {
        'retry-after': String(DATABASE_RETRY_AFTER_SECONDS),
      });
    }
    if (database instanceof Error) throw database;
    const result = database as HealthCheckResult;
    return {
      ...result,
      info: smtp.status === 'up' ? { ...result.info, smtp } : result.info,
      error: smtp.status === 'down' ? { ...result.error, smtp } : result.error,
      details: { ...result.details, smtp },
    };
  }

  /** Prometheus metrics (an API key is needed). */
  @Get('metrics')
  @Access('service')
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'The Prometheus text exposition format (version 0.0.4).',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(): Promise<string> {
    await this.smtp.state(); // refreshes `smtp_up` (cached for a few seconds)
    return this.metrics.registry.metrics();
  }
}
