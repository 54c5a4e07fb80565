import { addressesIn, FieldGroup, first, messageIdIn, readRecipient } from './fields';
import { isDaemon, readPlainBounce } from './plain-bounce';
import { stripReply } from './strip-reply';
import { Classification, InboundReport, ParsedInbound, ReportRecipient } from './types';

const AUTO_REPLY_PRECEDENCE = /^(bulk|junk|auto_reply|list)$/i;
const AUTO_REPLY_HEADERS = ['x-autoreply', 'x-autorespond'];
/** Out-of-office subjects (Outlook, Exchange, Gmail, Apple Mail, Thunderbird's vacation filters). */
const AUTO_REPLY_SUBJECT =
  /^(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|autoreply|réponse automatique|absence du bureau|absent(e)? du bureau|message d'absence|je suis absent|away from (the )?office|on vacation|vacation reply|abwesenheitsnotiz|respuesta automática)\b/i;

/** Feedback types that are no complaint: a DMARC failure report (RFC 6591), a "not spam" mark. */
const NOT_A_COMPLAINT = ['auth-failure', 'not-spam'];

/**
 * What a parsed message is, in this order: a report (DSN, ARF), a bounce in plain text, any other
 * report or message of a mail system (never taken for a person's reply), an auto-reply, a reply.
 * Bounces come first because they carry `Auto-Submitted` too.
 */
export function classify(parsed: ParsedInbound): Classification {
  const original = { originalMessageId: parsed.original?.messageId, originalMailId: parsed.original?.mailId };
  const report = parsed.report;
  if (report?.type === 'delivery-status') {
    const dsn = fromDsn(report);
    if (dsn) {
      const messageId = original.originalMessageId ?? messageIdIn(first(report.fields, 'x-original-message-id'));
      return { ...dsn, ...original, originalMessageId: messageId ?? parsed.inReplyTo };
    }
  }
  if (report?.type === 'feedback-report') return complaint(parsed, report.fields);
  // Microsoft's JMRP in its own format: the complained message attached to a plain multipart/mixed.
  if (
    parsed.from === 'staff@hotmail.com' &&
    /^complaint about message from/i.test(parsed.subject?.trim() ?? '') &&
    parsed.original
  )
    return complaint(parsed, { 'feedback-type': ['abuse'] });

  const plain = readPlainBounce(parsed);
  if (plain)
    return {
      kind: plain.kind,
      recipients: plain.recipients,
      originalMessageId: plain.original?.messageId,
      originalMailId: plain.original?.mailId,
      reason: plain.reason,
    };
  // Any report (a read receipt too) is a machine's: never a person's reply.
  const isReport = !!report || /^\s*multipart\/report/i.test(parsed.headers['content-type'] ?? '');
  if (isDaemon(parsed) || isReport)
    return {
      kind: 'UNRECOGNISED',
      recipients: [],
      ...original,
      reason: isReport
        ? `A ${report?.type ?? 'multipart/report'} report that reads as no bounce, delay or complaint`
        : `A message of a mail system (${parsed.from}) that reads as no known bounce`,
    };

  const auto = autoReplyReason(parsed);
  if (auto) return { kind: 'AUTO_REPLY', recipients: [], reason: auto };
  if (parsed.text?.trim()) return { kind: 'REPLY', recipients: [], replyText: stripReply(parsed.text) };
  return { kind: 'UNRECOGNISED', recipients: [], reason: 'No text to read' };
}

/**
 * A permanent failure of the address itself, which suppresses it (contract A2): 5.1.x (bad
 * mailbox, bad domain) and 5.2.1 (mailbox disabled); not 5.1.7/5.1.8, which RFC 3463 gives to the
 * sender's address. A full mailbox (5.2.2), a message too big (5.3.4) or a policy refusal (5.7.x)
 * says nothing against the address.
 */
export function isHardBounce(status: string): boolean {
  const code = /^5\.(\d{1,3})\.(\d{1,3})$/.exec(status.trim());
  if (!code) return false;
  if (code[1] === '1') return code[2] !== '7' && code[2] !== '8';
  return code[1] === '2' && code[2] === '1';
}

function fromDsn(report: InboundReport): Classification | null {
  const recipients = report.recipients.map(readRecipient);
  const failed = recipients.filter((r) => r.action === 'failed');
  const delayed = recipients.filter((r) => r.action === 'delayed');
  const list = (rs: ReportRecipient[]) => rs.map((r) => `${r.recipient} ${r.status}`).join(', ');
  if (failed.length) return { kind: 'BOUNCE', recipients, reason: `Delivery failed: ${list(failed)}` };
  if (delayed.length) return { kind: 'DELAY', recipients, reason: `Delivery delayed: ${list(delayed)}` };
  if (recipients.length)
    return {
      kind: 'UNRECOGNISED',
      recipients,
      reason: `A delivery report without failure or delay: ${recipients.map((r) => r.action).join(', ')}`,
    };
  return null;
}

/** RFC 5965: the address from Original-Rcpt-To, else from the returned message (Microsoft's own header, its To). */
function complaint(parsed: ParsedInbound, fields: FieldGroup): Classification {
  const feedbackType = (first(fields, 'feedback-type') ?? 'abuse').toLowerCase();
  const original = parsed.original;
  const base = {
    recipients: [],
    originalMessageId: original?.messageId,
    originalMailId: original?.mailId,
    feedbackType,
  };
  if (NOT_A_COMPLAINT.includes(feedbackType))
    return { ...base, kind: 'UNRECOGNISED', reason: `A feedback report of type ${feedbackType}, not a complaint` };
  const complainedAddress =
    addressesIn(first(fields, 'original-rcpt-to'))[0] ??
    addressesIn(original?.headers['x-hmxmroriginalrecipient'])[0] ??
    addressesIn(first(fields, 'removal-recipient'))[0] ??
    original?.to[0];
  return { ...base, kind: 'COMPLAINT', complainedAddress, reason: `Feedback report: ${feedbackType}` };
}

function autoReplyReason(parsed: ParsedInbound): string | undefined {
  const h = parsed.headers;
  const autoSubmitted = parsed.autoSubmitted?.split(';')[0].trim().toLowerCase();
  if (autoSubmitted && autoSubmitted !== 'no') return `Auto-Submitted: ${parsed.autoSubmitted}`;
  if (AUTO_REPLY_PRECEDENCE.test(h.precedence?.trim() ?? '')) return `Precedence: ${h.precedence}`;
  const header = AUTO_REPLY_HEADERS.find((name) => name in h);
  if (header) return `${header} header`;
  if (AUTO_REPLY_SUBJECT.test(parsed.subject?.trim() ?? '')) return `Out-of-office subject: ${parsed.subject}`;
  return undefined;
}
