import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Access, Probe } from '../auth/access.decorator';
import { SmtpTransport } from '../delivery/smtp.transport';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly smtp: SmtpTransport,
    private readonly metrics: MetricsService,
  ) {}

  /** Liveness: the process answers. */
  @Get('health')
  @Probe()
  live(): { status: string } {
    return { status: 'ok' };
  }

  /** Readiness: the database and the SMTP server are reachable (503 otherwise). */
  @Get('health/ready')
  @Probe()
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 3000 }),
      async () => {
        const smtp = this.indicators.check('smtp');
        try {
          await this.smtp.verify();
          return smtp.up();
        } catch (error) {
          return smtp.down({ message: (error as Error).message });
        }
      },
    ]);
  }

  /** Prometheus metrics (an API key is needed). */
  @Get('metrics')
  @Access('service')
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
