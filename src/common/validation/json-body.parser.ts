import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error';

export const MAX_JSON_DEPTH = 32;

/** `application/json` (any parameters, e.g. charset) and structured `+json` types. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json(?:\s*;|$)/i;

/**
 * Whether `text` nests arrays/objects deeper than `max`. One linear pass over the characters,
 * skipping strings, before `JSON.parse` (whose recursion a 10,000-deep document overflows).
 * Malformed text is left for the parser to refuse.
 */
export function jsonDepthExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * JSON is the only body the API reads: every other parser (Fastify's text/plain, Nest's
 * form-urlencoded) is removed, so any other Content-Type is a 415 (a form post is how CSRF
 * arrives). Fastify's own JSON parser does the parsing, with `__proto__` and `constructor` keys
 * refused as secure-json-parse does, after the depth check. An empty body is no body.
 */
export function registerJsonBodyParser(fastify: FastifyInstance, bodyLimit: number): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    JSON_MEDIA_TYPE,
    { parseAs: 'string', bodyLimit },
    (request: FastifyRequest, body: string | Buffer, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      // Zero bytes labelled JSON (what many clients send on a POST or DELETE without a body) is an
      // absent body, as without the header: routes whose body is optional accept it.
      if (text.length === 0) {
        done(null, undefined);
        return;
      }
      if (jsonDepthExceeds(text)) {
        done(
          ApiError.validation([
            { field: 'body', location: 'body', issue: `JSON must not be nested deeper than ${MAX_JSON_DEPTH} levels` },
          ]),
          undefined,
        );
        return;
      }
      parse(request, text, done);
    },
  );
}
