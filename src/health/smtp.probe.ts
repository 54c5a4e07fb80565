import { Injectable } from '@nestjs/common';
import { SmtpTransport } from '../delivery/smtp.transport';
import { MetricsService } from '../common/metrics/metrics.service';

export interface SmtpState {
  status: 'up' | 'down';
  message?: string;
  /** When the relay was last asked (ISO 8601). */
  checkedAt: string;
}

/** A check answers within this bound, whatever the relay does (a relay that stalls is "down"). */
const CHECK_TIMEOUT_MS = 2000;
/** Probes and scrapes within this window share one check: the relay is not asked on every call. */
const CACHE_MS = 5000;

/**
 * Whether the SMTP relay answers, for the readiness body and the `smtp_up` gauge. It never fails
 * readiness: mails are accepted and queued while the relay is down, and delivered once it is back.
 */
@Injectable()
export class SmtpProbe {
  private last?: { state: SmtpState; at: number };
  private running?: Promise<SmtpState>;

  constructor(
    private readonly smtp: SmtpTransport,
    private readonly metrics: MetricsService,
  ) {}

  state(): Promise<SmtpState> {
    if (this.last && Date.now() - this.last.at < CACHE_MS) return Promise.resolve(this.last.state);
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  private async check(): Promise<SmtpState> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    let state: SmtpState;
    try {
      await Promise.race([this.smtp.verify(), timeout]);
      state = { status: 'up', checkedAt: new Date().toISOString() };
    } catch (error) {
      state = { status: 'down', message: (error as Error).message, checkedAt: new Date().toISOString() };
    } finally {
      clearTimeout(timer);
    }
    this.metrics.smtpUp.set(state.status === 'up' ? 1 : 0);
    this.last = { state, at: Date.now() };
    return state;
  }
}
