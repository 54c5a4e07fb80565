/**
 * The new part of a reply: quoted history and signature removed (contract A2).
 *
 * Our own table of forms rather than a library. Looked at (npm, source and tests read):
 * - `email-reply-parser` (Crisp, maintained, French and Outlook forms): an ES module only, with
 *   `import.meta`, which this CommonJS build cannot load under Jest (node_modules is not
 *   transformed, and the end-to-end tests run the app in Jest); 2.3.9 also needs Node 22 where we
 *   support 20.19. It also needs an `<address>` on a `De :`/`From:` line, which Exchange leaves out
 *   for people of its own directory.
 * - `planer` (a port of Mailgun's talon): no signature removal; misses `a écrit :` wrapped onto its
 *   own line (as Gmail wraps a long attribution); CoffeeScript; HTML needs a DOM.
 * - `talonjs`: one release, pins cheerio 0.22 and xmldom 0.1.27.
 * - `node-email-reply-parser`: GitHub's older algorithm: a line starting `-word` (a list) is
 *   taken for a signature; replaces only the first CRLF.
 * The forms below are the ones their tables and our corpus (test/fixtures/inbound) show.
 */

/** Attribution lines (Gmail, Apple Mail, Thunderbird, Yahoo), possibly wrapped over 3 lines. */
const ATTRIBUTIONS: RegExp[] = [
  /^On\s.*\d.*\swrote\s?:$/, // On Mon, Jun 3, 2024 at 10:12 AM Voyages <x@y> wrote:
  /^Le\s.*\d.*\sa\s+écrit\s?:$/, // Le lun. 3 juin 2024 à 10:12, Voyages <x@y> a écrit :
  /^Am\s.*\d.*\sschrieb\s.*:$/, // Am 03.06.2024 um 10:12 schrieb Voyages <x@y>:
  /^El\s.*\d.*\sescribió\s?:$/, // El lun, 3 jun 2024 a las 10:12, Voyages (<x@y>) escribió:
];

/** A separator line before the earlier message (Outlook plain text, Thunderbird, Zimbra, forwards). */
const SEPARATOR =
  /^-{2,}\s*(Original Message|Message d'origine|Message original|Mail original|Forwarded message|Message transféré|Ursprüngliche Nachricht|Mensaje original)\s*-{2,}$/i;

/** Outlook's header block: `De : …` then, within a few lines, `Envoyé : …` (or `From:`/`Sent:`). */
const HEADER_FROM = /^\*?(From|De|Von|Da)\s?:\*?\s/i;
const HEADER_SENT = /^\*?(Sent|Envoyé|Gesendet|Enviado|Inviato)\s?:\*?\s/i;
/** …or `From: <address>` then `Date:`/`To:`/`Subject:` (Gmail's and Thunderbird's forwarded headers). */
const HEADER_OTHER = /^\*?(Date|To|À|A|Subject|Objet|Datum|An|Betreff)\s?:\*?\s/i;

/** A signature: the `-- ` delimiter (its space often lost), or a client's line at the very end. */
const SIGNATURE_DELIMITER = /^--\s*$/;
const CLIENT_SIGNATURE =
  /^(Sent from|Sent with|Envoyé (de|depuis|à partir de|avec)|Get Outlook for|Obtenir Outlook pour|Télécharger Outlook pour)\b/i;

const QUOTED = /^\s*>/;
const RULE = /^\s*[-_=*]{5,}\s*$/;

export function stripReply(text: string): string {
  let lines = text.replace(/\r\n?/g, '\n').split('\n');
  const opener = findOpener(lines);
  if (opener) {
    const before = lines.slice(0, opener.start);
    // Top posting: the answer is above the history. Bottom or inline posting: it is around the quotes.
    lines = before.some((line) => line.trim() && !QUOTED.test(line)) ? before : [...before, ...lines.slice(opener.end)];
  }
  lines = lines.filter((line) => !QUOTED.test(line));
  const signature = lines.findIndex((line) => SIGNATURE_DELIMITER.test(line));
  if (signature >= 0) lines = lines.slice(0, signature);
  lines = lines.map((line) => line.trimEnd());
  while (lines.length && (!lines[lines.length - 1] || RULE.test(lines[lines.length - 1]))) lines.pop();
  if (lines.length && CLIENT_SIGNATURE.test(lines[lines.length - 1].trim())) lines.pop();
  return lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * The first line that opens quoted history, and where the history ends: after an attribution only
 * the `>` lines are history (an answer may follow them); after a separator or header block, all.
 */
function findOpener(lines: string[]): { start: number; end: number } | null {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    if (SEPARATOR.test(line)) return { start: i, end: lines.length };
    if (HEADER_FROM.test(line) && isHeaderBlock(lines, i)) return { start: i, end: lines.length };
    for (let n = 1; n <= 3 && i + n <= lines.length; n++) {
      // A wrapped attribution has no blank line inside it.
      if (n > 1 && !lines[i + n - 1].trim()) break;
      if (isAttribution(lines, i, i + n)) return { start: lastStart(lines, i, i + n), end: i + n };
    }
  }
  return null;
}

function isAttribution(lines: string[], start: number, end: number): boolean {
  const joined = lines
    .slice(start, end)
    .map((l) => l.trim())
    .join(' ');
  return ATTRIBUTIONS.some((form) => form.test(joined));
}

/**
 * The last line in [from, end) from which the lines up to `end` are still an attribution: an answer
 * such as "Le 14 juillet, 4 personnes." just above "Le lun. … a écrit :" is the answer, not the
 * attribution's first line.
 */
function lastStart(lines: string[], from: number, end: number): number {
  for (let start = end - 1; start > from; start--) if (isAttribution(lines, start, end)) return start;
  return from;
}

function isHeaderBlock(lines: string[], i: number): boolean {
  const next = lines.slice(i + 1, i + 5).map((l) => l.trim());
  return next.some((l) => HEADER_SENT.test(l)) || (lines[i].includes('@') && next.some((l) => HEADER_OTHER.test(l)));
}
