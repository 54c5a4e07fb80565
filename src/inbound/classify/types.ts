/** What an inbound message is (contract A2); REJECTED is decided later, by the effects layer. */
export type InboundKind = 'BOUNCE' | 'DELAY' | 'COMPLAINT' | 'REPLY' | 'AUTO_REPLY' | 'UNRECOGNISED';

/** One recipient of a delivery status notification (RFC 3464 per-recipient fields). */
export interface ReportRecipient {
  /** Final-Recipient (else Original-Recipient), bare and lower-cased; '' when the report names none. */
  recipient: string;
  /** failed | delayed | delivered | relayed | expanded */
  action: string;
  /** Enhanced status code (RFC 3463), e.g. 5.1.1. */
  status?: string;
  /** Diagnostic-Code text without its type (`smtp;`), unfolded: what the remote server said. */
  diagnostic?: string;
}

/** The headers of the message a report returns (its message/rfc822 or text/rfc822-headers part). */
export interface OriginalMessage {
  /** With angle brackets, as our deliveries store it. */
  messageId?: string;
  /** Our X-Mail-Id header. */
  mailId?: string;
  from?: string;
  to: string[];
  subject?: string;
  /** Lower-cased header name → first value, unfolded (e.g. x-hmxmroriginalrecipient). */
  headers: Record<string, string>;
}

/** The machine-readable part of a multipart/report. */
export interface InboundReport {
  /** The report-type parameter: delivery-status, feedback-report, or another (disposition-notification...). */
  type: string;
  /** Per-message fields (DSN) or the feedback-report fields: lower-cased name → values in order. */
  fields: Record<string, string[]>;
  /** Per-recipient field groups of a DSN. */
  recipients: Array<Record<string, string[]>>;
}

export interface ParsedInbound {
  /** The From address, bare and lower-cased. */
  from?: string;
  fromName?: string;
  /** To and Cc addresses, bare and lower-cased. */
  to: string[];
  subject?: string;
  /** Message-IDs with angle brackets. */
  messageId?: string;
  inReplyTo?: string;
  references: string[];
  date?: Date;
  autoSubmitted?: string;
  /** Every top-level header: lower-cased name → first value, unfolded, as written (encoded words kept). */
  headers: Record<string, string>;
  /** Addresses of the headers that name where a message was delivered (delivered-to, x-original-to...). */
  headerAddresses: Record<string, string[]>;
  /** The text part; for a message with only HTML, the HTML turned into text. */
  text?: string;
  html?: string;
  /** The machine-readable part of a report (message/delivery-status, message/feedback-report), when there is one. */
  report?: InboundReport;
  /**
   * The headers of the first message/rfc822 or text/rfc822-headers part: the returned message of a
   * report or bounce (of a person's message, a forwarded attachment, which classify ignores).
   */
  original?: OriginalMessage;
  attachments: Array<{ filename?: string; contentType: string; size: number }>;
}

export interface Classification {
  kind: InboundKind;
  /** The recipients of a DSN (or of a plain-text bounce, read from its text). */
  recipients: ReportRecipient[];
  /** Message-ID of the returned original, with angle brackets. */
  originalMessageId?: string;
  /** X-Mail-Id header of the returned original. */
  originalMailId?: string;
  complainedAddress?: string;
  feedbackType?: string;
  /** The new part of a reply: quoted history and signature removed. */
  replyText?: string;
  /** Why, human readable. */
  reason?: string;
}
