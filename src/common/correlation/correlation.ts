import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const CORRELATION_HEADER = 'X-Correlation-ID';
const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What the service keeps on each raw request, set by the first hook of the request. */
export interface RequestContext {
  correlationId: string;
  /** `scheme://host` of the request, used when PUBLIC_BASE_URL is not configured. */
  requestBaseUrl: string;
}

export type RawRequest = IncomingMessage & Partial<RequestContext>;

/** The caller's id when it is well-formed (it ends up in headers and logs), else a new UUID. */
export function correlationIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && VALID_ID.test(value) ? value : randomUUID();
}

const VALID_HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** `scheme://host` as the client reached us; a Host header that is not a host name is not echoed. */
export function requestBaseUrl(req: IncomingMessage): string {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = req.headers.host;
  return `${encrypted ? 'https' : 'http'}://${host && VALID_HOST.test(host) ? host : 'localhost'}`;
}

export function attachRequestContext(req: RawRequest): RequestContext {
  req.correlationId ??= correlationIdFrom(req.headers['x-correlation-id']);
  req.requestBaseUrl ??= requestBaseUrl(req);
  return { correlationId: req.correlationId, requestBaseUrl: req.requestBaseUrl };
}
