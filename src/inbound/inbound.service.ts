import { Injectable, Logger } from '@nestjs/common';
import { CLS_ID, ClsService } from 'nestjs-cls';
import { createHash, randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { ApiError } from '../common/errors/api-error';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { AppConfig, InjectConfig } from '../config/app.config';
import { ContactsService } from '../contacts/contacts.service';
import { ConversationsService } from '../conversations/conversations.service';
import { MailWriter } from '../mails/mail.writer';
import { SubscriptionsService } from '../recipients/subscriptions.service';
import { unsubscribeToken } from '../recipients/unsubscribe-address';
import { Classification, classify, isHardBounce, parseInbound, ParsedInbound } from './classify';
import { InboundMessageDto } from './dto/inbound-message.dto';
import { InboundAddress, InboundAddresses } from '../delivery/inbound-address';
import { InboundMapper } from './inbound.mapper';
import { InboundOutcome, InboundRepository, SentCopy } from './inbound.repository';

export type InboundVia = 'SMTP' | 'HTTP';

/** The envelope of a message the listener received; the HTTP way has none and reads the headers. */
export interface Envelope {
  from: string | null;
  to: string[];
}

/** Headers that name where a message was delivered, for a message uploaded without its envelope. */
const DELIVERED_TO = ['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to'];

/**
 * What comes back from the mail world (contract A2): each message is classified, recorded and
 * applied in one transaction: a bounce fails its delivery, a complaint suppresses its address, a
 * reply is posted in its thread. The same message twice (same Message-ID) is applied once.
 */
@Injectable()
export class InboundService {
  private readonly logger = new Logger(InboundService.name);
  readonly addresses: InboundAddresses;
  private readonly domain: string;

  constructor(
    private readonly inbound: InboundRepository,
    private readonly contacts: ContactsService,
    private readonly conversations: ConversationsService,
    private readonly mails: MailWriter,
    private readonly cls: ClsService,
    private readonly mapper: InboundMapper,
    private readonly idempotency: IdempotencyService,
    private readonly subscriptions: SubscriptionsService,
    @InjectConfig() config: AppConfig,
  ) {
    this.addresses = new InboundAddresses(config.inbound.domain, config.inbound.secret);
    this.domain = config.inbound.domain;
  }

  /**
   * Whether the listener takes mail for this address: ours, with a valid token; or an unsubscribe
   * address in its form (whether its token exists is looked up when the message is applied).
   */
  accepts(address: string): boolean {
    return this.addresses.parse(address) !== null || unsubscribeToken(address, this.domain) !== null;
  }

  /**
   * Records and applies one message; `duplicate` when the same one (its Message-ID, or its bytes
   * when it has none) was received before: the earlier record is returned and nothing changes.
   */
  async receive(
    raw: Buffer,
    envelope: Envelope | null,
    via: InboundVia,
  ): Promise<{ message: InboundMessageDto; duplicate: boolean }> {
    const parsed: ParsedInbound & { unreadable?: string } = await parseInbound(raw).catch((error: Error) =>
      unreadable(error),
    );
    const dedupeKey = parsed.messageId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    const earlier = await this.inbound.findByDedupeKey(dedupeKey);
    if (earlier) return { message: this.mapper.toDto(earlier), duplicate: true };
    const to = envelope?.to ?? recipientsOf(parsed);
    const ours = to.map((address) => this.addresses.parse(address)).filter((a): a is InboundAddress => a !== null);
    const classification: Classification = parsed.unreadable
      ? { kind: 'UNRECOGNISED', recipients: [], reason: `The message could not be read: ${parsed.unreadable}` }
      : classify(parsed);
    const id = randomUUID();
    const applied = await this.cls.run(async () => {
      this.cls.set(CLS_ID, this.cls.getId() ?? id);
      return this.inbound.transaction(async (manager) => {
        const inserted = await this.inbound.insertWithin(manager, {
          id,
          kind: classification.kind,
          via,
          envelopeFrom: envelope?.from ?? null,
          from: parsed.from ?? null,
          to,
          subject: parsed.subject ?? null,
          messageId: parsed.messageId ?? null,
          dedupeKey,
          deliveryId: null,
          mailId: null,
          contactId: null,
          conversationId: null,
          postedMessageId: null,
          reason: null,
          raw,
        });
        if (inserted === null) return null;
        const unsubscribe = to.map((address) => unsubscribeToken(address, this.domain)).find((t) => t !== null);
        const outcome =
          unsubscribe && classification.kind !== 'AUTO_REPLY'
            ? await this.unsubscribe(manager, unsubscribe)
            : await this.apply(manager, parsed, classification, ours, to);
        await this.inbound.recordOutcomeWithin(manager, id, outcome);
        const message = this.mapper.toDto((await this.inbound.findById(id, manager))!);
        await this.idempotency.storeWithin(manager, 202, message);
        return message;
      });
    });
    if (!applied) {
      // The same message was being received at the same moment: the first one's record answers.
      const first = await this.inbound.findByDedupeKey(dedupeKey);
      if (!first) throw new Error(`Inbound message ${dedupeKey} was recorded and then vanished`);
      return { message: this.mapper.toDto(first), duplicate: true };
    }
    // A reply posted in a contact thread queued mails: the worker looks now.
    this.mails.nudge();
    this.logger.log(`Inbound ${applied.kind} ${applied.id} via ${via}${applied.reason ? `: ${applied.reason}` : ''}`);
    return { message: applied, duplicate: false };
  }

  private async apply(
    manager: EntityManager,
    parsed: ParsedInbound,
    c: Classification,
    ours: InboundAddress[],
    to: string[],
  ): Promise<InboundOutcome> {
    const bounceAddress = ours.find((a) => a.purpose === 'bounces');
    const replyAddress = ours.find((a) => a.purpose === 'reply');
    const none = { deliveryId: null, mailId: null, contactId: null, conversationId: null, postedMessageId: null };
    const about = (copy: SentCopy | null) =>
      copy ? { ...none, deliveryId: copy.deliveryId, mailId: copy.mailId } : none;
    // Only the HTTP way can bring an address of ours whose token is not valid (the listener refuses it).
    if (!ours.length && to.some((address) => this.addresses.isOurs(address)))
      return { ...none, kind: 'REJECTED', reason: 'Addressed to an inbound address whose token is not valid.' };

    switch (c.kind) {
      case 'AUTO_REPLY':
      case 'UNRECOGNISED': {
        const target = replyAddress ?? bounceAddress;
        const copy = target ? await this.inbound.copyWithin(manager, target.deliveryId) : null;
        return { ...about(copy), kind: c.kind, reason: c.reason ?? null };
      }
      case 'BOUNCE':
      case 'DELAY': {
        const copy = bounceAddress
          ? await this.inbound.copyWithin(manager, bounceAddress.deliveryId)
          : await this.firstCopy(manager, [c.originalMessageId]);
        if (!copy) return { ...none, kind: c.kind, reason: 'The report names no mail of ours.' };
        const failed = c.recipients.find((r) => r.action === 'failed');
        const delayed = c.recipients.find((r) => r.action === 'delayed');
        if (c.kind === 'DELAY' || !failed) {
          const what = delayed ?? c.recipients[0];
          await this.inbound.delayWithin(manager, copy.deliveryId, reportLine(what?.status, what?.diagnostic));
          return { ...about(copy), kind: 'DELAY', reason: null };
        }
        const status = failed.status ?? '5.0.0';
        const bounced = await this.inbound.bounceWithin(manager, copy.deliveryId, {
          message: `The receiving server reported that the mail could not be delivered (${status}).`,
          smtpResponse: reportLine(failed.status, failed.diagnostic),
          suppress: isHardBounce(status),
        });
        return {
          ...about(copy),
          kind: 'BOUNCE',
          reason: bounced ? null : `The delivery was ${copy.status}, not SENT: it was left as it was.`,
        };
      }
      case 'COMPLAINT': {
        const copy = bounceAddress
          ? await this.inbound.copyWithin(manager, bounceAddress.deliveryId)
          : await this.complainedCopy(manager, c);
        const address = copy?.email ?? null;
        if (!copy || !address) return { ...none, kind: 'COMPLAINT', reason: 'The report names no mail of ours.' };
        await this.inbound.complainWithin(manager, copy, address);
        return { ...about(copy), kind: 'COMPLAINT', reason: null };
      }
      case 'REPLY':
        return this.reply(manager, parsed, c, replyAddress);
    }
  }

  /**
   * A mail to `unsubscribe+{token}@INBOUND_DOMAIN` (the mailto of List-Unsubscribe), whatever it
   * says: its receiver is unsubscribed from its category (source MAILTO). An automatic answer
   * to such an address changes nothing (it is applied as one); an unknown token is REJECTED.
   */
  private async unsubscribe(manager: EntityManager, token: string): Promise<InboundOutcome> {
    const none = { deliveryId: null, mailId: null, contactId: null, conversationId: null, postedMessageId: null };
    const done = await this.subscriptions.unsubscribeByTokenWithin(manager, token, 'MAILTO');
    if (!done) return { ...none, kind: 'REJECTED', reason: 'The unsubscribe address names no subscription.' };
    return {
      ...none,
      kind: 'UNSUBSCRIBE',
      reason: done.changed ? null : `Already unsubscribed from ${done.subscription.category}: nothing changed.`,
    };
  }

  /**
   * A reply is posted in the thread of the copy it answers: the one its `reply+` token names, or,
   * when the client replied to `From` and lost that address, the one its In-Reply-To/References
   * name. Only the person that copy went to may answer through it.
   */
  private async reply(
    manager: EntityManager,
    parsed: ParsedInbound,
    c: Classification,
    replyAddress: InboundAddress | undefined,
  ): Promise<InboundOutcome> {
    const none = { deliveryId: null, mailId: null, contactId: null, conversationId: null, postedMessageId: null };
    const from = parsed.from ?? '';
    let copy: SentCopy | null;
    if (replyAddress) {
      copy = await this.inbound.copyWithin(manager, replyAddress.deliveryId);
      if (copy && !sameAddress(copy.email, from))
        return {
          ...none,
          deliveryId: copy.deliveryId,
          mailId: copy.mailId,
          kind: 'REJECTED',
          reason: 'Sent from another address than the one the reply address was given to.',
        };
    } else {
      const threaded = await this.inbound.copiesByMessageIdWithin(manager, [
        ...(parsed.inReplyTo ? [parsed.inReplyTo] : []),
        ...parsed.references,
      ]);
      copy = threaded.find((candidate) => sameAddress(candidate.email, from)) ?? null;
      if (!copy)
        return {
          ...none,
          kind: threaded.length ? 'REJECTED' : 'UNRECOGNISED',
          reason: threaded.length
            ? 'Answers a mail of ours, but from another address than the one it was sent to.'
            : 'Neither addressed to a reply address nor answering a mail of ours.',
        };
    }
    if (!copy) return { ...none, kind: 'UNRECOGNISED', reason: 'The reply address names no mail of ours.' };
    const about = { ...none, deliveryId: copy.deliveryId, mailId: copy.mailId };
    const text = plainText(c.replyText ?? '');
    if (!text) return { ...about, kind: 'REJECTED', reason: 'The reply holds no text of its own.' };
    try {
      // A savepoint: a reply the thread refuses (archived, too long) is recorded, nothing of it kept.
      return await manager.transaction(async (inner) => {
        if (copy.contactThreadId) {
          const posted = await this.contacts.replyByMail(inner, {
            threadId: copy.contactThreadId,
            writerAddress: copy.email!,
            writerName: parsed.fromName ?? null,
            subject: parsed.subject ?? null,
            text,
          });
          return {
            ...about,
            kind: 'REPLY' as const,
            contactId: copy.contactThreadId,
            postedMessageId: posted,
            reason: null,
          };
        }
        if (copy.conversationId) {
          const posted = await this.conversations.postByMail(inner, {
            conversationId: copy.conversationId,
            participantId: copy.receiverId,
            text,
          });
          return {
            ...about,
            kind: 'REPLY' as const,
            conversationId: copy.conversationId,
            postedMessageId: posted,
            reason: null,
          };
        }
        return {
          ...about,
          kind: 'UNRECOGNISED' as const,
          reason: `A ${copy.category} mail belongs to no thread to reply in.`,
        };
      });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return { ...about, kind: 'REJECTED', reason: `The thread refused the reply: ${error.message}` };
    }
  }

  private async firstCopy(manager: EntityManager, messageIds: Array<string | undefined>): Promise<SentCopy | null> {
    const ids = messageIds.filter((id): id is string => !!id);
    return (await this.inbound.copiesByMessageIdWithin(manager, ids))[0] ?? null;
  }

  /** The copy a complaint names: by its Message-ID, else by the X-Mail-Id and the complained address. */
  private async complainedCopy(manager: EntityManager, c: Classification): Promise<SentCopy | null> {
    const byMessageId = await this.firstCopy(manager, [c.originalMessageId]);
    if (byMessageId) return byMessageId;
    if (c.originalMailId && c.complainedAddress && /^[0-9a-f-]{36}$/i.test(c.originalMailId))
      return this.inbound.copyOfMailWithin(manager, c.originalMailId, c.complainedAddress);
    return null;
  }
}

/** A message mailparser could not read is still recorded (UNRECOGNISED), never refused for ever. */
function unreadable(error: Error): ParsedInbound & { unreadable?: string } {
  return { to: [], references: [], headers: {}, headerAddresses: {}, attachments: [], unreadable: error.message };
}

function recipientsOf(parsed: ParsedInbound): string[] {
  const fromHeaders = DELIVERED_TO.flatMap((name) => parsed.headerAddresses?.[name] ?? []);
  return [...new Set([...fromHeaders, ...parsed.to].map((address) => address.toLowerCase()))];
}

/** Line breaks as LF, and no control character but tab and LF: what a posted text may hold. */
function plainText(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n');
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return lines.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
}

function sameAddress(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** The report's words for the delivery: its Diagnostic-Code, else its Status. */
function reportLine(status: string | undefined, diagnostic: string | undefined): string {
  return diagnostic ?? (status ? `Status: ${status}` : 'No status given');
}
