/**
 * The security headers of every answer: those `@fastify/helmet` sends by default (its
 * Content-Security-Policy aside: ours is set per path), with `Cross-Origin-Resource-Policy:
 * same-site` and `Strict-Transport-Security` in production only.
 *
 * Built once and set on the Fastify reply by the first hook rather than by helmet: helmet writes
 * them onto Node's raw response, which sends every answer down Node's slow header path (merging
 * with Fastify's headers, an array per header) and keeps those arrays for the life of an event
 * stream (about 2 KB per stream, issue 11). The values are helmet's, so nothing changes for clients.
 */
export function securityHeaders(production: boolean): Readonly<Record<string, string>> {
  return Object.freeze({
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-site',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    ...(production ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  });
}
