import { isEmail } from 'class-validator';

/**
 * The one rule for every address a client or an operator gives us. It lives in config/, the bottom
 * of the module graph, because the configuration checks CONTACT_INBOX_EMAIL with it at start and
 * config/ imports nothing else of src/; common/validation builds the DTO decorator (@IsPlainEmail)
 * and the text rule on it.
 */

/** Nothing a mail header could read as a second address, a comment, a group or a display name. */
const PLAIN_ADDRESS = /^[^\s"(),:;<>[\\\]@]+@[^\s"(),:;<>[\\\]@]+$/;

/**
 * Controls (C0, DEL, C1), format characters (bidirectional controls U+202A–202E, U+2066–2069,
 * U+200E/200F, U+061C; zero-width U+200B–200D, U+2060, U+FEFF; soft hyphen; tags), every other
 * default-ignorable code point (U+180E, variation selectors, fillers) and the line and paragraph
 * separators U+2028/2029. One class test per string: linear.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

/** Whether `text` holds a character that shows as nothing or changes the direction of the text (see INVISIBLE). */
export function hasInvisibleCharacters(text: string): boolean {
  return INVISIBLE.test(text);
}

/**
 * A plain `local@domain` address (at most 254 characters): no display name, quotes, comments,
 * groups, whitespace, line breaks, nor invisible or direction-changing characters (an address that
 * reads as another one).
 */
export function isPlainEmail(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length <= 254 &&
    PLAIN_ADDRESS.test(value) &&
    !hasInvisibleCharacters(value) &&
    isEmail(value)
  );
}
