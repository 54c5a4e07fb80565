import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus registry of this process and the service's own metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly mailsAccepted = new Counter({
    name: 'mails_accepted_total',
    help: 'Mail events accepted, by category',
    labelNames: ['category'],
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'mail_deliveries_total',
    help: 'Delivery outcomes: SENT, FAILED, CANCELLED (a cancellation reached the attempt), or RETRY for a transient failure that will be retried',
    labelNames: ['status'],
    registers: [this.registry],
  });

  readonly smtpUp = new Gauge({
    name: 'smtp_up',
    help: 'Whether the SMTP relay answered its last check (1) or not (0); refreshed by /health/ready and each scrape',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
