/**
 * The security headers of every answer (the Content-Security-Policy, which differs per path, is
 * set beside them in app.setup.ts): `@fastify/helmet`'s defaults without the four that only
 * concern legacy browsers or HTML documents (`X-XSS-Protection: 0`, `X-Download-Options`,
 * `X-DNS-Prefetch-Control`, `Origin-Agent-Cluster`), with `Cross-Origin-Resource-Policy: same-site`
 * and `Strict-Transport-Security` in production only.
 *
 * Built once and set on the Fastify reply by the first hook rather than by helmet: helmet writes
 * them onto Node's raw response, which sends every answer down Node's slow header path (merging
 * with Fastify's headers, an array per header) and keeps those arrays for the life of an event
 * stream (issue 11: 10,000 open streams must fit in 100 MB).
 */
export function securityHeaders(production: boolean): Readonly<Record<string, string>> {
  return Object.freeze({
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-site',
    'referrer-policy': 'no-referrer',
    ...(production ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
  });
}
