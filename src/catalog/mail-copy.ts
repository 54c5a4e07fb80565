import en from './copy/en.json';
import fr from './copy/fr.json';
import { Locale, MAIL_CATEGORIES, MailCategory } from './mail-category';

/**
 * The words of every mail, one JSON file per locale (`copy/fr.json`, `copy/en.json`) that a
 * translator edits without touching code; checked when this module loads, so a file with a missing
 * or misspelt key stops the start, not a delivery.
 *
 * Every string is a Handlebars template that renders to PLAIN TEXT: it is compiled with
 * `noEscape`, and the layout (delivery/templates) escapes each rendered piece exactly once.
 * So: no HTML, no triple-stash, and only the built-in helpers (if, unless, each, with).
 *
 * Context of `categories` and `strings`: firstName (may be empty), lastName, category,
 * publicationId, reservationId, organizationId, establishmentId, productType, buttonUrl, and `vars`
 * (the values given by the sender, declared per category in mail-catalog.ts). Every optional value
 * is wrapped in {{#if}} so a mail reads naturally without it. Ids a category requires are always
 * present.
 *
 * Context of `contact`: name, mail, object, message, contactId, conversationId, firstName and
 * buttonUrl (may be empty: then no button is shown, so no paragraph mentions one). The visitor's
 * message is never in the copy: the layout prints it as a quoted block after the paragraphs.
 *
 * French is written with ordinary spaces; the non-breaking spaces of French typography are added
 * at load.
 */
export interface MailCopy {
  subject: string;
  preheader: string;
  heading: string;
  paragraphs: string[];
  buttonLabel: string;
}

export interface LocaleStrings {
  greetingNamed: string;
  greetingAnonymous: string;
  signature: string;
  footer: string;
  buttonFallback: string;
  /** Before the link to the help page (FRONTEND_BASE_URL + /help) in the footer. */
  help: string;
  /** The footer link of SUBSCRIPTION mails to the unsubscribe page (contract A3). */
  unsubscribe: string;
}

const STRING_KEYS: (keyof LocaleStrings)[] = [
  'greetingNamed',
  'greetingAnonymous',
  'signature',
  'footer',
  'buttonFallback',
  'help',
  'unsubscribe',
];
const COPY_KEYS: (keyof MailCopy)[] = ['subject', 'preheader', 'heading', 'paragraphs', 'buttonLabel'];

interface LocaleCopy {
  strings: LocaleStrings;
  categories: Record<MailCategory, MailCopy>;
}

/** French typography: a non-breaking space before « : ; ! ? » and inside guillemets. */
function frenchSpacing(source: string): string {
  return source.replace(/ ([:;!?»])/g, '\u00a0$1').replace(/« /g, '«\u00a0');
}

function fail(file: string, path: string, problem: string): never {
  throw new Error(`src/catalog/copy/${file}.json: ${path} ${problem}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exactKeys(file: string, path: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (!isObject(value)) fail(file, path, 'must be an object');
  for (const key of keys) if (!(key in value)) fail(file, `${path}.${key}`, 'is missing');
  for (const key of Object.keys(value))
    if (!keys.includes(key)) fail(file, `${path}.${key}`, `is not expected here (expected: ${keys.join(', ')})`);
  return value;
}

function text(file: string, path: string, value: unknown, fix: (s: string) => string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(file, path, 'must be a non-empty string');
  return fix(value);
}

function mailCopy(file: string, path: string, value: unknown, fix: (s: string) => string): MailCopy {
  const c = exactKeys(file, path, value, COPY_KEYS);
  if (!Array.isArray(c.paragraphs) || c.paragraphs.length === 0)
    fail(file, `${path}.paragraphs`, 'must be a non-empty array of strings');
  return {
    subject: text(file, `${path}.subject`, c.subject, fix),
    preheader: text(file, `${path}.preheader`, c.preheader, fix),
    heading: text(file, `${path}.heading`, c.heading, fix),
    paragraphs: c.paragraphs.map((p, i) => text(file, `${path}.paragraphs[${i}]`, p, fix)),
    buttonLabel: text(file, `${path}.buttonLabel`, c.buttonLabel, fix),
  };
}

/** Checks one locale's file and returns its copy; throws an error naming the file and the key. */
export function loadLocaleCopy(file: string, source: unknown, fix: (s: string) => string = (s) => s): LocaleCopy {
  const root = exactKeys(file, '$', source, ['strings', 'categories']);
  const strings = exactKeys(file, '$.strings', root.strings, STRING_KEYS);
  const categories = exactKeys(file, '$.categories', root.categories, MAIL_CATEGORIES);
  return {
    strings: Object.fromEntries(
      STRING_KEYS.map((key) => [key, text(file, `$.strings.${key}`, strings[key], fix)]),
    ) as unknown as LocaleStrings,
    categories: Object.fromEntries(
      MAIL_CATEGORIES.map((key) => [key, mailCopy(file, `$.categories.${key}`, categories[key], fix)]),
    ) as Record<MailCategory, MailCopy>,
  };
}

const COPY: Record<Locale, LocaleCopy> = {
  fr: loadLocaleCopy('fr', fr, frenchSpacing),
  en: loadLocaleCopy('en', en),
};

export const LOCALE_STRINGS: Record<Locale, LocaleStrings> = { fr: COPY.fr.strings, en: COPY.en.strings };
export const MAIL_COPY: Record<Locale, Record<MailCategory, MailCopy>> = {
  fr: COPY.fr.categories,
  en: COPY.en.categories,
};
