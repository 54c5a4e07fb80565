import { addressesIn, originalFrom, readFieldGroups, readRecipient, statusIn } from './fields';
import { OriginalMessage, ParsedInbound, ReportRecipient } from './types';

/**
 * Bounces without a machine-readable report: Exim and qmail write only text, Gmail did until
 * 2017, old Sendmail and Postfix configurations and some gateways still do. Their well-known
 * forms, as Sisimai's set-of-emails shows them.
 */

/** Where the returned message is copied below the notice. */
const COPY_MARKERS: RegExp[] = [
  /^-+ This is a copy of the message.*$/im, // Exim ("including all the headers", "'s headers")
  /^--- Below this line is a copy of the message\.?$/im, // qmail
  /^-+ ?Original message ?-+$/im, // Gmail
  /^ *-+ ?(Original message follows|Unsent message follows|Returned message|Message header follows|Undelivered Message) ?-+$/im, // Sendmail, others
  /^Original message headers:\s*$/im, // Exchange, Office 365
  /^\s*Below is a copy of the original message:\s*$/im, // OpenSMTPD
];

const DAEMON_LOCAL_PART = /^(mailer-daemon|mailer_daemon|mail-daemon|mailerdaemon|postmaster|mdaemon)$/i;
const DAEMON_NAME = /^(mail delivery (system|subsystem|service)|mail administrator|mailer[- ]daemon|postmaster)$/i;

const DELAY_SUBJECT =
  /delivery status notification(: warning| \(delay\))|^warning: message .* delayed|delayed mail|^delivery delayed|remise différée|message retardé/i;
const DELAY_TEXT =
  /this is a warning (message )?only|temporary failure report|a message is delayed for more than|has not yet been delivered|delivery to the following recipients? (has been|was) delayed|will be retried|delay reason/i;
const FAILURE_SUBJECT =
  /mail delivery failed|undelivered mail|delivery status notification(: error| \(failure\))|returned mail|failure notice|undeliverable|non remis|delivery failure|mail system error|échec de (la )?remise|nondeliverable|message not delivered/i;
const FAILURE_TEXT =
  /permanent (fatal )?errors?|an error has occurred while attempting to deliver|failed permanently|could not be delivered|couldn't be delivered|wasn't delivered|was not delivered|wasn't able to deliver|delivery has failed|address\(es\) failed/i;

export interface PlainBounce {
  kind: 'BOUNCE' | 'DELAY';
  recipients: ReportRecipient[];
  original?: OriginalMessage;
  reason: string;
}

/** A sender that speaks for a mail system, not a person. */
export function isDaemon(parsed: ParsedInbound): boolean {
  return DAEMON_LOCAL_PART.test(parsed.from?.split('@')[0] ?? '') || DAEMON_NAME.test(parsed.fromName?.trim() ?? '');
}

export function readPlainBounce(parsed: ParsedInbound): PlainBounce | null {
  const failedHeader = addressesIn(parsed.headers['x-failed-recipients']);
  const subject = parsed.subject ?? '';
  const automatic = !!parsed.autoSubmitted || /^<?>?$/.test((parsed.headers['return-path'] ?? 'x').trim());
  // A person's "Re: Undeliverable" is not a bounce: a subject alone counts only on an automatic message.
  if (
    !failedHeader.length &&
    !isDaemon(parsed) &&
    !(automatic && (FAILURE_SUBJECT.test(subject) || DELAY_SUBJECT.test(subject)))
  )
    return null;

  const text = parsed.text ?? '';
  const copyAt = Math.min(...COPY_MARKERS.map((marker) => marker.exec(text)?.index ?? text.length));
  const notice = text.slice(0, copyAt);
  // Some write the DSN fields into the text (a gateway that flattened the MIME parts): read them as a report.
  const groups = readFieldGroups(notice);
  const inline = groups.filter((g) => g.action && (g['final-recipient'] || g['original-recipient'])).map(readRecipient);
  const failedInline = inline.some((r) => r.action === 'failed');
  const delayed = !failedHeader.length && !failedInline && (DELAY_SUBJECT.test(subject) || DELAY_TEXT.test(notice));
  // A mail system quoting a permanent SMTP reply (`550 5.1.1 ...`), whatever its language.
  const quotesFailure = isDaemon(parsed) && /(?<![\w.])5\d\d[ -]#?5\.\d{1,3}\.\d{1,3}/.test(notice);
  const failed =
    failedHeader.length || failedInline || quotesFailure || FAILURE_SUBJECT.test(subject) || FAILURE_TEXT.test(notice);
  if (!delayed && !failed) return null;

  // The returned message: an attached part, else below a marker, else the last header block that names one.
  const original =
    parsed.original ??
    (copyAt < text.length
      ? originalFrom(text.slice(copyAt).replace(/^.*\n/, ''))
      : originalFrom(groupText(groups.filter((g) => g['message-id'] && (g.from || g.to)).pop())));
  const reason = `Plain-text ${delayed ? 'delay warning' : 'bounce'} from ${parsed.from ?? 'an unnamed sender'}`;
  if (inline.length) return { kind: delayed ? 'DELAY' : 'BOUNCE', recipients: inline, original, reason };

  const ignore = new Set([...parsed.to, parsed.from, original?.from, ...mailFromIn(notice)]);
  const named = failedHeader.length
    ? failedHeader
    : addressesIn(notice).filter((a) => !ignore.has(a) && !DAEMON_LOCAL_PART.test(a.split('@')[0]));
  const addresses = named.length ? named : (original?.to.slice(0, 1) ?? ['']);
  return {
    kind: delayed ? 'DELAY' : 'BOUNCE',
    recipients: addresses.map((recipient, i) => {
      const segment = segmentOf(notice, recipient, addresses[i + 1]);
      const diagnostic = smtpLineIn(segment) ?? smtpLineIn(notice);
      return {
        recipient,
        action: delayed ? 'delayed' : 'failed',
        status: statusOf(segment, notice, delayed),
        ...(diagnostic ? { diagnostic } : {}),
      };
    }),
    original,
    reason,
  };
}

/** A field group written back as header lines, for originalFrom. */
function groupText(group: Record<string, string[]> | undefined): string {
  return Object.entries(group ?? {})
    .flatMap(([name, values]) => values.map((value) => `${name}: ${value}`))
    .join('\n');
}

/** The text about one recipient: from its address to the next one's. */
function segmentOf(notice: string, recipient: string, next: string | undefined): string {
  const lower = notice.toLowerCase();
  const start = recipient ? lower.indexOf(recipient) : -1;
  if (start < 0) return notice;
  const end = next ? lower.indexOf(next, start + recipient.length) : -1;
  return notice.slice(start, end > start ? end : undefined);
}

/** The enhanced status in the text, else the bare class: 5.0.0 for a failure, 4.0.0 for a delay. */
function statusOf(segment: string, notice: string, delayed: boolean): string {
  const classes = delayed ? '4' : '5';
  return statusIn(segment, classes) ?? statusIn(notice, classes) ?? `${classes}.0.0`;
}

/** The line where the remote server answered (`550 5.1.1 <a@b>: Recipient address rejected`). */
function smtpLineIn(text: string): string | undefined {
  return /^.*(?<![\w.])[45]\d\d(?:[ -]|$).*$/m
    .exec(text)?.[0]
    .replace(/^\s*\(?(reason:\s*)?/i, '')
    .replace(/\)\s*$/, '')
    .trim();
}

function mailFromIn(text: string): string[] {
  return [...text.matchAll(/MAIL FROM:\s*<([^>]*)>/gi)].map((m) => m[1].toLowerCase());
}
