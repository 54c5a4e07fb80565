import 'reflect-metadata';
import { hasInvisibleCharacters } from '../../config/plain-email';
import type { ErrorDetail, ErrorLocation } from '../errors/api-error';

/**
 * The contract's "Text input" rule, in one place: every string of a body, query or path (values
 * and object keys) is free of NUL and the other C0 control characters, and of lone UTF-16
 * surrogates. Tab, CR and LF are allowed only in fields marked `@MultiLine()` (a message, a
 * content). Applied by the global validation pipe before any other check, so no such string can
 * reach a query, a template or a mail header.
 *
 * Ids and e-mail addresses (fields named `id`, `…Id`, `…Ids`, `email`, `mail`, `participants`,
 * and path or query values of those names) also refuse the characters that show as nothing or
 * reorder the text around them (hasInvisibleCharacters, config/plain-email.ts): `\u202Eevil@…` must not be stored as an address
 * that reads as another one. Free text keeps them: right-to-left languages and emoji need them.
 */

const MULTI_LINE = Symbol('multiLine');
/** C0 controls and DEL; in multi-line fields, all but tab (09), LF (0A) and CR (0D). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/** Field names that hold an id or an address. */
const IDENTIFIER_FIELD = /(?:^id|Ids?|^e?mail|^participants)$/;
/** A problem list stops growing here: a huge bad array must not make a huge error body. */
const MAX_PROBLEMS = 20;
const MAX_DEPTH = 64;

/** Marks a string property whose value may span lines (tab, CR and LF allowed). */
export function MultiLine(): PropertyDecorator {
  return (target, propertyKey) => Reflect.defineMetadata(MULTI_LINE, true, target, propertyKey);
}

function isMultiLine(owner: object, key: string): boolean {
  return Reflect.getMetadata(MULTI_LINE, owner, key) === true;
}

/** Why `text` breaks the rule, or null. */
export function textProblem(text: string, multiLine = false): string | null {
  if ((multiLine ? CONTROL_EXCEPT_LINE_BREAKS : CONTROL).test(text)) {
    return multiLine
      ? 'must not contain control characters other than tab, CR and LF'
      : 'must not contain line breaks or other control characters';
  }
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed())
    return 'must be valid Unicode text (no lone UTF-16 surrogate)';
  return null;
}

/** Whether a field of this name holds an id or an e-mail address. */
export function isIdentifierField(name: string): boolean {
  return IDENTIFIER_FIELD.test(name);
}

/** Why `text`, an id or an address, breaks the rule, or null. */
export function identifierProblem(text: string): string | null {
  return (
    textProblem(text) ??
    (hasInvisibleCharacters(text)
      ? 'must not contain invisible or direction-changing characters (zero-width, bidirectional controls) in an id or an address'
      : null)
  );
}

/**
 * Every string of `value` (at any depth, object keys included) that breaks the rule, one detail
 * each. `field` names the value itself (a query parameter or path parameter); for a body, the
 * fields are the property paths. Walks with an explicit stack: depth never costs call stack.
 */
export function findTextProblems(value: unknown, location?: ErrorLocation, field = ''): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const stack: Array<{ value: unknown; path: string; multiLine: boolean; identifier: boolean; depth: number }> = [
    { value, path: field, multiLine: false, identifier: isIdentifierField(field), depth: 0 },
  ];
  const seen = new Set<object>();
  while (stack.length && problems.length < MAX_PROBLEMS) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      const issue = item.identifier ? identifierProblem(item.value) : textProblem(item.value, item.multiLine);
      if (issue)
        problems.push({ field: item.path || location || 'value', value: shorten(item.value), location, issue });
      continue;
    }
    if (item.value === null || typeof item.value !== 'object' || seen.has(item.value) || item.depth > MAX_DEPTH)
      continue;
    seen.add(item.value);
    if (Array.isArray(item.value)) {
      for (let index = item.value.length - 1; index >= 0; index--) {
        stack.push({
          value: item.value[index],
          path: `${item.path}[${index}]`,
          multiLine: item.multiLine,
          identifier: item.identifier,
          depth: item.depth + 1,
        });
      }
      continue;
    }
    const owner = item.value;
    for (const key of Object.keys(owner).reverse()) {
      const path = item.path ? `${item.path}.${key}` : key;
      const keyIssue = textProblem(key);
      if (keyIssue) {
        problems.push({ field: path, location, issue: `name ${keyIssue}` });
        continue;
      }
      stack.push({
        value: (owner as Record<string, unknown>)[key],
        path,
        multiLine: isMultiLine(owner, key),
        identifier: isIdentifierField(key),
        depth: item.depth + 1,
      });
    }
  }
  return problems;
}

function shorten(text: string): string {
  return text.length > 50 ? `${text.slice(0, 50)}…` : text;
}
