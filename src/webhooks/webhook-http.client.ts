import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import http from 'node:http';
import https from 'node:https';
import { AppConfig, InjectConfig } from '../config/app.config';
import { CheckedTarget, checkTarget, Resolver, systemResolver, TargetRefused } from './webhook-target';

/** The most of a response that is read (the rest is dropped with the connection). */
const MAX_RESPONSE_BYTES = 4096;
/** What the delivery log keeps of it. */
const EXCERPT_CHARS = 1024;

export interface CallResult {
  /** A 2xx answer. */
  ok: boolean;
  status: number | null;
  /** The start of the answer's body, or why there was no answer. */
  excerpt: string | null;
  durationMs: number;
}

/**
 * POSTs signed webhook bodies. Each call checks its target again (DNS can change after
 * registration) and connects to the address it checked, with the host name kept for the Host
 * header and TLS; redirects are not followed (a 3xx is a failure); the whole call is bounded by
 * WEBHOOK_TIMEOUT_SECONDS; at most 4 KB of the answer is read. Keep-alive agents reuse connections
 * to the same checked address.
 */
@Injectable()
export class WebhookHttpClient implements OnApplicationShutdown {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private resolver: Resolver = systemResolver;

  constructor(@InjectConfig() private readonly config: AppConfig) {
    const options = {
      keepAlive: true,
      maxSockets: config.webhooks.perEndpointConcurrency,
      timeout: config.webhooks.timeoutSeconds * 1000,
    };
    this.httpAgent = new http.Agent(options);
    this.httpsAgent = new https.Agent(options);
  }

  /** The target check of registration and of every call (throws TargetRefused). */
  check(url: string): Promise<CheckedTarget> {
    return checkTarget(url, this.config.webhooks, this.resolver);
  }

  async post(url: string, body: string, headers: Record<string, string>): Promise<CallResult> {
    const started = Date.now();
    const elapsed = (): number => Date.now() - started;
    let target;
    try {
      target = await this.check(url);
    } catch (error) {
      if (!(error instanceof TargetRefused)) throw error;
      return { ok: false, status: null, excerpt: `Not called: the URL ${error.message}.`, durationMs: elapsed() };
    }
    const secure = target.url.protocol === 'https:';
    return new Promise<CallResult>((resolve) => {
      let settled = false;
      const finish = (result: Omit<CallResult, 'durationMs'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...result, durationMs: elapsed() });
      };
      const request = (secure ? https : http).request({
        host: target.address,
        family: target.family,
        port: target.port,
        path: target.url.pathname + target.url.search,
        method: 'POST',
        agent: secure ? this.httpsAgent : this.httpAgent,
        servername: secure && !target.url.hostname.startsWith('[') ? target.hostname : undefined,
        headers: {
          ...headers,
          host: target.url.host,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'communication-webhooks/1',
        },
      });
      const timer = setTimeout(() => {
        request.destroy();
        finish({ ok: false, status: null, excerpt: `No answer within ${this.config.webhooks.timeoutSeconds} s.` });
      }, this.config.webhooks.timeoutSeconds * 1000);
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (): void => {
          const excerpt = Buffer.concat(chunks)
            .subarray(0, MAX_RESPONSE_BYTES)
            .toString('utf8')
            .slice(0, EXCERPT_CHARS);
          finish({ ok: status >= 200 && status < 300, status, excerpt: excerpt || null });
        };
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          // Enough read: the rest is never buffered, and the connection is not reused.
          if (size >= MAX_RESPONSE_BYTES) {
            done();
            response.destroy();
          }
        });
        response.on('end', done);
        response.on('error', done);
      });
      request.on('error', (error: NodeJS.ErrnoException) =>
        finish({ ok: false, status: null, excerpt: `Call failed: ${error.code ?? error.message}.` }),
      );
      request.end(body);
    });
  }

  /** Tests of the address check stub DNS; nothing else calls this. */
  useResolver(resolver: Resolver): void {
    this.resolver = resolver;
  }

  onApplicationShutdown(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
