import { OriginalMessage, ReportRecipient } from './types';

export type FieldGroup = Record<string, string[]>;

/**
 * Blocks of RFC 822 style fields ("Name: value", folded lines continued by leading white space),
 * separated by blank lines: a DSN's per-message and per-recipient groups, a feedback report, the
 * headers of a returned message. Names are lower-cased; a repeated field keeps every value.
 */
export function readFieldGroups(text: string): FieldGroup[] {
  const groups: FieldGroup[] = [];
  let group: FieldGroup | null = null;
  let last: string[] | null = null;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (!line.trim()) {
      if (group) groups.push(group);
      group = last = null;
    } else if (/^[ \t]/.test(line)) {
      if (last) last[last.length - 1] = `${last[last.length - 1]} ${line.trim()}`.trim();
    } else {
      const field = /^([!-9;-~]+)[ \t]*:[ \t]*(.*)$/.exec(line);
      if (!field) continue;
      group ??= {};
      last = group[field[1].toLowerCase()] ??= [];
      last.push(field[2].trim());
    }
  }
  if (group) groups.push(group);
  return groups;
}

export function first(group: FieldGroup | undefined, name: string): string | undefined {
  return group?.[name]?.[0];
}

/** Bare addresses in a header or field value ("Name <a@b>", "rfc822; a@b", `"quoted"@b`), lower-cased. */
export function addressesIn(value: string | undefined): string[] {
  const found = (value ?? '').match(/("[^"\r\n]+"|[^\s<>,;:"'()[\]]+)@[^\s<>,;:"'()[\]]+/g) ?? [];
  return [...new Set(found.map((address) => address.replace(/\.+$/, '').toLowerCase()))];
}

/** A Message-ID with angle brackets (some reports drop them), or undefined. */
export function messageIdIn(value: string | undefined): string | undefined {
  const id = /<([^<>\s]+@[^<>\s]+)>/.exec(value ?? '')?.[1] ?? /^\s*([^<>\s]+@[^<>\s]+)\s*$/.exec(value ?? '')?.[1];
  return id ? `<${id}>` : undefined;
}

/**
 * The first enhanced status code (RFC 3463) in a text: `5.1.1`, qmail's `#5.1.1`. Not a piece of
 * an IP address or a version number (`10.5.1.1`, `Server id 15.1.112.19`).
 */
export function statusIn(text: string | undefined, classes = '45'): string | undefined {
  const pattern = new RegExp(`(?<![\\w.])#?([${classes}]\\.\\d{1,3}\\.\\d{1,3})(?![\\w.]?\\d)`);
  return pattern.exec(text ?? '')?.[1];
}

/** A field value without its type: `smtp; 550 5.1.1 ...` → `550 5.1.1 ...`, `rfc822; a@b` → `a@b`. */
export function withoutType(value: string): string {
  return value.replace(/^[\w-]+[ \t]*;[ \t]*/, '').trim();
}

/** The headers of a returned message (what precedes its first blank line; its body is not needed). */
export function originalFrom(text: string): OriginalMessage | undefined {
  const start = text.replace(/^([ \t]*\r?\n)+/, '');
  const end = start.search(/\r?\n[ \t]*\r?\n/);
  const group = readFieldGroups(end < 0 ? start : start.slice(0, end))[0];
  if (!group) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(group)) headers[name] = values[0];
  if (!headers['message-id'] && !headers['x-mail-id'] && !headers.from && !headers.to) return undefined;
  return {
    messageId: messageIdIn(headers['message-id']),
    mailId: headers['x-mail-id']?.trim() || undefined,
    from: addressesIn(headers.from)[0],
    to: addressesIn([headers.to, headers.cc].filter(Boolean).join(', ')),
    subject: headers.subject,
    headers,
  };
}

const ACTIONS = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'];

/** One per-recipient group of a DSN. */
export function readRecipient(group: FieldGroup): ReportRecipient {
  const recipient = addressesIn(first(group, 'final-recipient') ?? first(group, 'original-recipient'))[0] ?? '';
  const code = first(group, 'diagnostic-code');
  const diagnostic = code ? withoutType(code) : undefined;
  let status = statusIn(first(group, 'status'), '245');
  // A generic x.0.0 (Gmail, SES) often hides the precise code the remote server gave.
  const precise = statusIn(diagnostic, '245');
  if (precise && (!status || (status.endsWith('.0.0') && precise[0] === status[0]))) status = precise;
  let action = /^[a-z]+/i.exec(first(group, 'action') ?? '')?.[0].toLowerCase() ?? '';
  // Off the RFC's list (SendGrid's "expired": it gave up), the status class tells.
  if (!ACTIONS.includes(action))
    action = status?.[0] === '4' ? 'delayed' : status?.[0] === '2' ? 'delivered' : 'failed';
  const replyClass = /^([45])\d\d\b/.exec(diagnostic ?? '')?.[1];
  status ??= replyClass ? `${replyClass}.0.0` : action === 'delayed' ? '4.0.0' : '5.0.0';
  return { recipient, action, status, ...(diagnostic ? { diagnostic } : {}) };
}
