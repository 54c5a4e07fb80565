import { htmlToText } from 'html-to-text';
import { AddressObject, simpleParser } from 'mailparser';
import { addressesIn, messageIdIn, originalFrom, readFieldGroups } from './fields';
import { InboundReport, ParsedInbound } from './types';

/** Headers that name where a message was delivered (the HTTP way has no envelope). */
const DELIVERED_TO = ['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to'];

/** The machine-readable part of a report, by its type (RFC 3464, RFC 6533, RFC 5965, RFC 8098). */
const REPORT_PARTS = [
  'message/delivery-status',
  'message/global-delivery-status',
  'message/feedback-report',
  'message/disposition-notification',
];
/** The returned message: whole, or its headers only (`text/rfc822-header` is a common misspelling). */
const ORIGINAL_PARTS = ['message/rfc822', 'message/global', 'text/rfc822-headers', 'text/rfc822-header'];

/**
 * Reads a raw message with mailparser. `keepDeliveryStatus` keeps a DSN's status part out of
 * `text` (it would otherwise be appended to it) and `ignoreEmbedded` keeps a returned message
 * whole, as an attachment (mailparser otherwise flattens an inline message/rfc822 into `text` and
 * loses its headers, where the Message-ID and X-Mail-Id we need are).
 */
export async function parseInbound(raw: Buffer): Promise<ParsedInbound> {
  const mail = await simpleParser(raw, { keepDeliveryStatus: true, ignoreEmbedded: true });
  const headers: Record<string, string> = {};
  for (const { key, line } of mail.headerLines) {
    headers[key] ??= line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
  }
  const headerAddresses: Record<string, string[]> = {};
  for (const name of DELIVERED_TO) {
    const values = mail.headerLines
      .filter((h) => h.key === name)
      .flatMap((h) => addressesIn(h.line.slice(name.length + 1)));
    if (values.length) headerAddresses[name] = values;
  }
  const sender = mail.from?.value[0];
  const contentType = mail.headers.get('content-type') as { value: string; params: Record<string, string> } | undefined;
  // Some gateways (McAfee, InterScan) send their report parts in multipart/mixed: the parts count, not the wrapper.
  const reportPart = mail.attachments.find((a) => REPORT_PARTS.includes(a.contentType));
  const originalPart = mail.attachments.find((a) => ORIGINAL_PARTS.includes(a.contentType));
  const reportType = contentType?.params['report-type'] ?? reportPart?.contentType.replace(/^message\/(global-)?/, '');
  return {
    from: sender?.address?.toLowerCase(),
    fromName: sender?.name || undefined,
    to: [...new Set([...addressesOf(mail.to), ...addressesOf(mail.cc)])],
    subject: mail.subject,
    messageId: messageIdIn(mail.messageId),
    inReplyTo: messageIdIn(mail.inReplyTo),
    references: [mail.references ?? []]
      .flat()
      .flatMap((ref) => ref.split(/\s+/).map(messageIdIn))
      .filter(isString),
    date: mail.date,
    autoSubmitted: headers['auto-submitted'],
    headers,
    headerAddresses,
    text: textOf(mail.text, mail.html || undefined, contentType?.value),
    html: mail.html || undefined,
    report: reportPart && readReport(reportType, reportPart.content.toString('utf8')),
    original: originalPart && originalFrom(originalPart.content.toString('utf8')),
    attachments: mail.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size })),
  };
}

function readReport(type: string | undefined, text: string): InboundReport {
  const groups = readFieldGroups(text);
  const isRecipient = (g: Record<string, string[]>) => !!(g['final-recipient'] || g['original-recipient'] || g.action);
  const fields: Record<string, string[]> = {};
  for (const group of groups.filter((g) => !isRecipient(g))) Object.assign(fields, group);
  return { type: (type ?? 'delivery-status').toLowerCase(), fields, recipients: groups.filter(isRecipient) };
}

/**
 * The text to read: the text/plain part, else the HTML turned into text. mailparser converts HTML
 * only when it is the whole message (and wraps it at 80 columns) or not at all (HTML in
 * multipart/alternative or /related without a text part), so the HTML is converted here, unwrapped,
 * images dropped and a link shown once when its text is its address.
 */
function textOf(
  text: string | undefined,
  html: string | undefined,
  contentType: string | undefined,
): string | undefined {
  if (html && (!text?.trim() || contentType === 'text/html')) {
    return htmlToText(html, {
      wordwrap: false,
      selectors: [
        { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
        { selector: 'img', format: 'skip' },
      ],
    });
  }
  return text || undefined;
}

function addressesOf(header: AddressObject | AddressObject[] | undefined): string[] {
  const mailboxes = [header ?? []].flat().flatMap((h) => h.value.flatMap((v) => (v.group ? v.group : [v])));
  return mailboxes.map((m) => m.address?.toLowerCase()).filter(isString);
}

function isString(value: string | undefined): value is string {
  return typeof value === 'string' && value.length > 0;
}
