import { HttpStatus, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { EntityManager } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { actingId, currentCaller } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';
import { ApiValidationPipe } from '../common/errors/validation.pipe';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { EventsRepository } from '../events/events.repository';
import { UuidOr404Pipe } from '../common/http/id-params';
import { PageQueryDto } from '../common/pagination/page.dto';
import { AppConfig, InjectConfig } from '../config/app.config';
import { MailSpec } from '../mails/mail.factory';
import { MailWriter } from '../mails/mail.writer';
import { RateLimits } from '../rate-limit/rate-limits';
import { ContactCategory, DEFAULT_LOCALE, MailCategory } from '../catalog/mail-category';
import { ContactMessageEntity } from './contact-message.entity';
import { ContactMapper } from './contact.mapper';
import { ContactPolicy } from './contact.policy';
import { ContactRepository, ThreadWriter } from './contact.repository';
import { ContactDto, ContactPageDto } from './dto/contact.dto';
import { CreateContactDto } from './dto/create-contact.dto';

/** One mail a contact message causes: to whom (an address, and who that is), answered to where, greeting whom. */
interface ContactTarget {
  category: ContactCategory;
  /** `support`, the writer's user id, or `contact:<thread id>` for a visitor without one. */
  receiverId: string;
  toAddress: string;
  replyTo: string;
  greetingName: string | null;
  locale: string;
}

/** Who the support inbox is, as a receiver of contact mails (GET /v1/mails?receiverId=support). */
const SUPPORT_RECEIVER = 'support';

const threadIdPipe = new UuidOr404Pipe();

@Injectable()
export class ContactsService {
  private readonly supportInbox: string;
  private readonly validator = new ApiValidationPipe();

  constructor(
    private readonly contacts: ContactRepository,
    private readonly mails: MailWriter,
    private readonly mapper: ContactMapper,
    private readonly policy: ContactPolicy,
    private readonly limits: RateLimits,
    private readonly cls: ClsService,
    private readonly idempotency: IdempotencyService,
    private readonly events: EventsRepository,
    @InjectConfig() config: AppConfig,
  ) {
    this.supportInbox = config.mail.contactInboxEmail;
  }

  /**
   * Stores a contact message and, in the same transaction, the mails it causes (mails of the one
   * pipeline, categories CONTACT_*), so a stored message is never left without its mails (nor
   * mails without it).
   * A reply is written by someone of its thread (see ContactPolicy), and goes to the thread's other
   * fixed party: the opener's address or the support inbox, never to an address a message gives.
   * Every message counts against CONTACT_RATE_LIMIT_PER_HOUR, but those of support's tools.
   */
  async create(dto: CreateContactDto, clientAddress: string): Promise<ContactDto> {
    const caller = currentCaller();
    const transmitterId = actingId(caller, 'transmitterId', dto.transmitterId) ?? null;
    // An id that is not a UUID cannot name a thread: 404 like any unknown id.
    const asked =
      dto.conversationId === undefined || dto.conversationId === null
        ? null
        : threadIdPipe.transform(dto.conversationId);
    const correlationId = this.cls.getId();
    const id = randomUUID();
    const created = await this.contacts.transaction(async (manager) => {
      let opener: ContactMessageEntity | null = null;
      let writers: ThreadWriter[] = [];
      if (asked !== null) {
        opener = await this.contacts.lockThread(manager, asked);
        // Someone outside the thread meets it as an unknown one, so thread ids cannot be probed.
        if (!opener || !this.policy.mayReply(caller, opener)) throw ApiError.notFound(`Contact thread ${asked}`);
        writers = await this.contacts.findThreadWriters(manager, opener.id);
      }
      const message = Object.assign(new ContactMessageEntity(), {
        id,
        conversationId: opener?.id ?? id,
        sendingDate: laterThan(writers),
        receiverId: dto.receiverId ?? null,
        transmitterId,
        name: dto.name,
        mail: dto.mail,
        object: dto.object,
        message: dto.message,
        locale: dto.locale ?? DEFAULT_LOCALE,
        correlationId,
      });
      const answer = await this.write(manager, message, opener, writers);
      await this.idempotency.storeWithin(manager, HttpStatus.CREATED, answer);
      // Counted after the Idempotency-Key is taken: a concurrent retry with the same key waits on
      // it, then replays the first answer and rolls back, without being refused by this limit.
      if (this.policy.countsAgainstLimits(caller))
        await this.limits.countContactMessage(manager, (opener ?? message).mail, clientAddress);
      return answer;
    });
    // Its mails are committed: the worker looks now rather than at its next poll.
    this.mails.nudge();
    return created;
  }

  /**
   * A reply that came back by mail (contract A2) to a `reply+` address of this thread, from the
   * address that copy was sent to: written by that address (the opener's, or the support inbox),
   * and mailed to the other party like any reply. The inbound service has checked the token and
   * the sender; it runs this in its own transaction and nudges the worker after the commit.
   * Returns the id of the new message.
   */
  async replyByMail(
    manager: EntityManager,
    reply: { threadId: string; writerAddress: string; writerName: string | null; subject: string | null; text: string },
  ): Promise<string> {
    const opener = await this.contacts.lockThread(manager, reply.threadId);
    if (!opener) throw ApiError.notFound(`Contact thread ${reply.threadId}`);
    const writers = await this.contacts.findThreadWriters(manager, opener.id);
    const byOpener = sameAddress(reply.writerAddress, opener.mail);
    const known = writers.find((writer) => sameAddress(writer.mail, reply.writerAddress));
    // The same rules as POST /v1/contacts (lengths, text without control characters).
    const dto = (await this.validator.transform(
      {
        name: (reply.writerName?.trim() || known?.name || (byOpener ? opener.name : 'Support')).slice(0, 200),
        mail: reply.writerAddress,
        object: (withoutReplyPrefix(reply.subject ?? '') || opener.object).slice(0, 200),
        message: reply.text,
      },
      { type: 'body', metatype: CreateContactDto },
    )) as CreateContactDto;
    const message = Object.assign(new ContactMessageEntity(), {
      id: randomUUID(),
      conversationId: opener.id,
      sendingDate: laterThan(writers),
      receiverId: null,
      transmitterId: byOpener ? opener.transmitterId : null,
      name: dto.name,
      mail: dto.mail,
      object: dto.object,
      message: dto.message,
      locale: byOpener ? opener.locale : DEFAULT_LOCALE,
      correlationId: this.cls.getId(),
    });
    await this.write(manager, message, opener, writers);
    return message.id;
  }

  /** Stores a message, the mails it causes and its `contact.created` event; returns its view. */
  private async write(
    manager: EntityManager,
    message: ContactMessageEntity,
    opener: ContactMessageEntity | null,
    writers: ThreadWriter[],
  ): Promise<ContactDto> {
    const targets = opener ? this.replyTargets(message, opener, writers) : this.openingTargets(message);
    await this.contacts.insertMessage(manager, message);
    await this.mails.create(
      manager,
      targets.map((target) => this.mail(message, target, message.correlationId)),
    );
    const answer = this.mapper.toDto(message);
    await this.events.append(manager, [{ type: 'contact.created', data: answer }]);
    return answer;
  }

  async findOne(id: string): Promise<ContactDto> {
    const message = await this.contacts.findById(id, this.policy.scope(currentCaller()));
    if (!message) throw ApiError.notFound(`Contact message ${id}`);
    return this.mapper.toDto(message);
  }

  /** The page of the whole thread that message `id` belongs to, oldest first. */
  async thread(id: string, query: PageQueryDto): Promise<ContactPageDto> {
    const message = await this.contacts.findById(id, this.policy.scope(currentCaller()));
    if (!message) throw ApiError.notFound(`Contact message ${id}`);
    const { rows, total } = await this.contacts.findThreadPage(
      message.conversationId,
      query.currentPage,
      query.sizePage,
    );
    return this.mapper.toThreadPage(id, rows, total, query);
  }

  /**
   * A new thread goes to the support inbox (Reply-To: the writer, so support can answer from its
   * mail client) and is acknowledged to the writer (Reply-To: the support inbox). The support
   * inbox reads the default locale; the writer gets the locale they chose.
   */
  private openingTargets(message: ContactMessageEntity): ContactTarget[] {
    const targets: ContactTarget[] = [
      {
        category: MailCategory.CONTACT_FORWARD,
        receiverId: SUPPORT_RECEIVER,
        toAddress: this.supportInbox,
        replyTo: message.mail,
        greetingName: null,
        locale: DEFAULT_LOCALE,
      },
    ];
    if (!sameAddress(message.mail, this.supportInbox)) {
      targets.push({
        category: MailCategory.CONTACT_ACKNOWLEDGEMENT,
        receiverId: visitorId(message),
        toAddress: message.mail,
        replyTo: this.supportInbox,
        greetingName: message.name,
        locale: message.locale,
      });
    }
    return targets;
  }

  /**
   * A reply goes from one fixed party of the thread to the other. The opener's side (a message
   * under the thread's transmitterId, or from its address) writes to the support inbox, Reply-To
   * the opener's address; support's side (services and admins) writes to the opener's address,
   * Reply-To the support inbox, greeting them by the name they last gave. The address a reply
   * gives is shown in the thread but never mailed.
   */
  private replyTargets(
    message: ContactMessageEntity,
    opener: ContactMessageEntity,
    writers: ThreadWriter[],
  ): ContactTarget[] {
    const byOpener =
      (opener.transmitterId !== null && message.transmitterId === opener.transmitterId) ||
      sameAddress(message.mail, opener.mail);
    if (sameAddress(opener.mail, this.supportInbox)) return [];
    if (byOpener) {
      const supportWriter = writers.find((writer) => sameAddress(writer.mail, this.supportInbox));
      return [
        {
          category: MailCategory.CONTACT_REPLY,
          receiverId: SUPPORT_RECEIVER,
          toAddress: this.supportInbox,
          replyTo: opener.mail,
          greetingName: supportWriter?.name ?? null,
          locale: DEFAULT_LOCALE,
        },
      ];
    }
    const openerWriter = writers.find((writer) => sameAddress(writer.mail, opener.mail)) ?? opener;
    return [
      {
        category: MailCategory.CONTACT_REPLY,
        receiverId: visitorId(opener),
        toAddress: opener.mail,
        replyTo: this.supportInbox,
        greetingName: openerWriter.name,
        locale: openerWriter.locale,
      },
    ];
  }

  /** A contact mail quotes its message (read when it is sent) and goes to an address known now. */
  private mail(message: ContactMessageEntity, target: ContactTarget, correlationId: string): MailSpec {
    return {
      category: target.category,
      receivers: [{ id: target.receiverId, email: normalize(target.toAddress) }],
      variables: target.greetingName ? { greetingName: target.greetingName } : {},
      locale: target.locale,
      correlationId,
      contactMessageId: message.id,
      replyTo: target.replyTo,
    };
  }
}

/** Who a visitor is as a receiver: their user id when they wrote signed in, else their thread. */
function visitorId(opener: ContactMessageEntity): string {
  return opener.transmitterId ?? `contact:${opener.conversationId}`;
}

/** The address alone, lower-cased: CONTACT_INBOX_EMAIL may be `Support <support@example.com>`. */
function normalize(address: string): string {
  return (/<([^<>]+)>\s*$/.exec(address)?.[1] ?? address).trim().toLowerCase();
}

function sameAddress(a: string, b: string): boolean {
  return normalize(a) === normalize(b);
}

/** A subject without the `Re:` / `RE :` / `Fwd:` / `TR :` prefixes mail clients add. */
function withoutReplyPrefix(subject: string): string {
  return subject.replace(/^\s*((re|fwd?|tr|aw|sv)\s*:\s*)+/i, '').trim();
}

/** Now, or just after the thread's latest message, so a thread's order is the order of writing. */
function laterThan(writers: ThreadWriter[]): Date {
  const now = Date.now();
  const latest = Math.max(0, ...writers.map((writer) => writer.lastSendingDate.getTime()));
  return new Date(Math.max(now, latest + 1));
}
