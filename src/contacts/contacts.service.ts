import { HttpStatus, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import { actingId, currentCaller } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { EventsRepository } from '../events/events.repository';
import { UuidOr404Pipe } from '../common/http/id-params';
import { PageQueryDto } from '../common/pagination/page.dto';
import { AppConfig, InjectConfig } from '../config/app.config';
import { senderDomain } from '../delivery/message-id';
import { QueueService } from '../delivery/queue.service';
import { RateLimits } from '../rate-limit/rate-limits';
import { DEFAULT_LOCALE } from '../catalog/mail-category';
import { ContactMessageEntity } from './contact-message.entity';
import { ContactNotificationEntity, NotificationStatus } from './contact-notification.entity';
import { ContactMapper } from './contact.mapper';
import { ContactPolicy } from './contact.policy';
import { ContactRepository, ThreadWriter } from './contact.repository';
import { ContactDto, ContactPageDto } from './dto/contact.dto';
import { CreateContactDto } from './dto/create-contact.dto';

export const CONTACT_NOTIFICATION_QUEUE = 'contact-notification';

export interface ContactNotificationJob {
  notificationId: string;
  correlationId: string;
}

type NotificationTarget = Pick<ContactNotificationEntity, 'kind' | 'toAddress' | 'replyTo' | 'firstName' | 'locale'>;

const threadIdPipe = new UuidOr404Pipe();

@Injectable()
export class ContactsService {
  private readonly messageIdDomain: string;
  private readonly supportInbox: string;

  constructor(
    private readonly contacts: ContactRepository,
    private readonly queue: QueueService,
    private readonly mapper: ContactMapper,
    private readonly policy: ContactPolicy,
    private readonly limits: RateLimits,
    private readonly cls: ClsService,
    private readonly idempotency: IdempotencyService,
    private readonly events: EventsRepository,
    @InjectConfig() config: AppConfig,
  ) {
    this.messageIdDomain = senderDomain(config.mail.from);
    this.supportInbox = config.mail.contactInboxEmail;
  }

  /**
   * Stores a contact message and, in the same transaction, one notification row and one queue job
   * per mail it causes, so a stored message is never left without its mails (nor mails without it).
   * A new thread counts against CONTACT_RATE_LIMIT_PER_HOUR of the writer's and the client's address.
   */
  async create(dto: CreateContactDto, clientAddress: string): Promise<ContactDto> {
    const transmitterId = actingId(currentCaller(), 'transmitterId', dto.transmitterId);
    const opensThread = dto.conversationId === undefined || dto.conversationId === null;
    if (opensThread) await this.limits.consumeContactThread(dto.mail, clientAddress);
    const correlationId = this.cls.getId();
    const id = randomUUID();
    return this.contacts.transaction(async (manager) => {
      let threadId: string = id;
      let writers: ThreadWriter[] = [];
      if (!opensThread) {
        // An id that is not a UUID cannot name a thread: 404 like any unknown id.
        const asked = threadIdPipe.transform(dto.conversationId!);
        const opener = await this.contacts.lockThread(manager, asked);
        if (!opener) throw ApiError.notFound(`Contact thread ${asked}`);
        threadId = opener.id;
        writers = await this.contacts.findThreadWriters(manager, threadId);
      }
      const message = Object.assign(new ContactMessageEntity(), {
        id,
        conversationId: threadId,
        sendingDate: laterThan(writers),
        receiverId: dto.receiverId ?? null,
        transmitterId: transmitterId ?? null,
        name: dto.name,
        mail: dto.mail,
        object: dto.object,
        message: dto.message,
        locale: dto.locale ?? DEFAULT_LOCALE,
        correlationId,
      });
      const targets = threadId === id ? this.openingTargets(message) : this.replyTargets(message, writers);
      const notifications = targets.map((target) => this.notification(message, target, correlationId));
      await this.contacts.insertMessage(manager, message, notifications);
      await this.queue.enqueue<ContactNotificationJob>(
        CONTACT_NOTIFICATION_QUEUE,
        notifications.map((n) => ({ notificationId: n.id, correlationId })),
        manager,
      );
      const answer = this.mapper.toDto(message);
      await this.events.append(manager, [{ type: 'contact.created', data: answer }]);
      await this.idempotency.storeWithin(manager, HttpStatus.CREATED, answer);
      return answer;
    });
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
    const { rows, total } = await this.contacts.findThreadPage(message.conversationId, query.currentPage, query.sizePage);
    return this.mapper.toThreadPage(id, rows, total, query);
  }

  /**
   * A new thread goes to the support inbox (Reply-To: the writer, so support can answer from its
   * mail client) and is acknowledged to the writer (Reply-To: the support inbox). The support
   * inbox reads the default locale; the writer gets the locale they chose.
   */
  private openingTargets(message: ContactMessageEntity): NotificationTarget[] {
    const targets: NotificationTarget[] = [
      { kind: 'CONTACT_FORWARD', toAddress: this.supportInbox, replyTo: message.mail, firstName: null, locale: DEFAULT_LOCALE },
    ];
    if (!sameAddress(message.mail, this.supportInbox)) {
      targets.push({ kind: 'CONTACT_ACKNOWLEDGEMENT', toAddress: message.mail, replyTo: this.supportInbox, firstName: message.name, locale: message.locale });
    }
    return targets;
  }

  /**
   * A reply goes to every other address of the thread: each distinct address that wrote an
   * earlier message, and the support inbox, except the replier's own address. Mails to the support
   * inbox carry Reply-To: the replier; mails to anyone else carry Reply-To: the support inbox, so
   * no writer's address is shown to another writer and answers by mail reach support.
   */
  private replyTargets(message: ContactMessageEntity, writers: ThreadWriter[]): NotificationTarget[] {
    const targets: NotificationTarget[] = [];
    const seen = new Set<string>([normalize(message.mail)]);
    const supportWriter = writers.find((writer) => sameAddress(writer.mail, this.supportInbox));
    if (!seen.has(normalize(this.supportInbox))) {
      targets.push({ kind: 'CONTACT_REPLY', toAddress: this.supportInbox, replyTo: message.mail, firstName: supportWriter?.name ?? null, locale: DEFAULT_LOCALE });
      seen.add(normalize(this.supportInbox));
    }
    for (const writer of writers) {
      if (seen.has(normalize(writer.mail))) continue;
      seen.add(normalize(writer.mail));
      targets.push({ kind: 'CONTACT_REPLY', toAddress: writer.mail, replyTo: this.supportInbox, firstName: writer.name, locale: writer.locale });
    }
    return targets;
  }

  private notification(message: ContactMessageEntity, target: NotificationTarget, correlationId: string): ContactNotificationEntity {
    const id = randomUUID();
    return Object.assign(new ContactNotificationEntity(), {
      ...target,
      id,
      contactMessageId: message.id,
      status: NotificationStatus.PENDING,
      attempts: 0,
      messageId: `<${id}@${this.messageIdDomain}>`,
      error: null,
      sentAt: null,
      correlationId,
    });
  }
}

/** The address alone, lower-cased: CONTACT_INBOX_EMAIL may be `Support <support@example.com>`. */
function normalize(address: string): string {
  return (/<([^<>]+)>\s*$/.exec(address)?.[1] ?? address).trim().toLowerCase();
}

function sameAddress(a: string, b: string): boolean {
  return normalize(a) === normalize(b);
}

/** Now, or just after the thread's latest message, so a thread's order is the order of writing. */
function laterThan(writers: ThreadWriter[]): Date {
  const now = Date.now();
  const latest = Math.max(0, ...writers.map((writer) => writer.lastSendingDate.getTime()));
  return new Date(Math.max(now, latest + 1));
}
