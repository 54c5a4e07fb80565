import { ERROR_STATUS, ErrorName } from './api-error';

/** What each error name of the contract means and what the caller can do; served at /docs/errors. */
export const ERROR_EXPLANATIONS: Record<ErrorName, string> = {
  VALIDATION_ERROR:
    'A field, query parameter, path value or header breaks a rule. `details` has one entry per problem: `field`, `location` (`body`, `query`, `path`, `header`), the `value` when it helps and the `issue`. Fix those values and send again; nothing was created.',
  MALFORMED_REQUEST: 'The body is not parseable JSON (or nests deeper than 32 levels). Send a valid JSON document.',
  UNAUTHORIZED:
    'No valid `Authorization: Bearer <API key or JWT>`. Send a key of `API_KEYS` (services) or a valid token of the configured issuer (people).',
  FORBIDDEN:
    'The caller is authenticated but may not do this (e.g. a customer replacing a conversation, or acting as another person).',
  RESOURCE_NOT_FOUND:
    'No such resource: an unknown id, an id that is not a UUID, a resource of another person, or an unknown route.',
  CONFLICT:
    'The action is not allowed in the resource’s current state (e.g. cancelling a sent mail, writing to an archived conversation), or a request with the same `Idempotency-Key` is still running.',
  PRECONDITION_FAILED:
    '`If-Match` does not match the current `ETag`: someone changed the resource since you read it. Read it again, then retry with its new `ETag`.',
  REQUEST_TIMEOUT: 'The request was not received completely within `REQUEST_TIMEOUT_SECONDS`.',
  PAYLOAD_TOO_LARGE: 'The body is over 1 MB.',
  URI_TOO_LONG: 'The URL is over 8 KB.',
  UNSUPPORTED_MEDIA_TYPE: 'The body is not `application/json` (a form post, for instance).',
  HEADERS_TOO_LARGE: 'The request headers are too large.',
  IDEMPOTENCY_KEY_REUSED:
    'This `Idempotency-Key` was already used by this caller with a different body within 24 h. Use a new key for a new request.',
  TOO_MANY_REQUESTS:
    'Over a rate limit (`RATE_LIMIT_PER_MINUTE` per caller, or `CONTACT_RATE_LIMIT_PER_HOUR` new contact threads). Wait the seconds of `Retry-After`.',
  INTERNAL_SERVER_ERROR:
    'An unexpected error. Nothing about it is in the body; the service logged it with the `debug_id`, which support can look up.',
  SERVICE_UNAVAILABLE: 'The database cannot be reached. Retry after the seconds of `Retry-After`; nothing was stored.',
};

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page /docs/errors: one section per error name, anchored by that name. */
export function errorsPage(): string {
  const sections = (Object.keys(ERROR_STATUS) as ErrorName[])
    .sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b]) // by status: 400s first, names of one status in the contract's order
    .map((name) => {
      const text = escape(ERROR_EXPLANATIONS[name]).replace(/`([^`]+)`/g, '<code>$1</code>');
      return `<section id="${name}"><h2><a href="#${name}">${name}</a> <small>${ERROR_STATUS[name]}</small></h2><p>${text}</p></section>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Errors — communication</title>
<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}h2 a{color:inherit}small{color:#777;font-weight:normal}code{background:#f3f3f3;padding:0 .2rem}:target{background:#fff7e0}</style></head>
<body><h1>Errors of the communication API</h1>
<p>Every error has the same body: <code>name</code>, <code>debug_id</code> (the request's correlation id), <code>message</code>, <code>information_link</code> (a link to a section below), <code>details</code> and <code>links</code>. See also the <a href="/docs">API reference</a>.</p>
${sections}
</body></html>`;
}
