import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import { ApiError, ErrorDetail } from '../common/errors/api-error';
import { AppConfig, InjectConfig } from '../config/app.config';
import { senderDomain } from '../delivery/message-id';
import { QueueService } from '../delivery/queue.service';
import { MetricsService } from '../health/metrics.service';
import { DeliveryEntity } from './delivery.entity';
import { CreateMailDto } from './dto/create-mail.dto';
import { ListMailsQueryDto } from './dto/list-mails.query.dto';
import { MailDto, MailPageDto } from './dto/mail.dto';
import { CATEGORY_RULES } from './mail-category';
import { MailEntity } from './mail.entity';
import { MailMapper } from './mail.mapper';
import { MailRepository } from './mail.repository';
import { DeliveryStatus, MailStatus } from './mail-status';

export const MAIL_DELIVERY_QUEUE = 'mail-delivery';

export interface MailDeliveryJob {
  deliveryId: string;
  correlationId: string;
}

@Injectable()
export class MailsService {
  private readonly messageIdDomain: string;

  constructor(
    private readonly mails: MailRepository,
    private readonly queue: QueueService,
    private readonly mapper: MailMapper,
    private readonly cls: ClsService,
    private readonly metrics: MetricsService,
    @InjectConfig() config: AppConfig,
  ) {
    this.messageIdDomain = senderDomain(config.mail.from);
  }

  /**
   * Accepts a mail event: the mail, one delivery per receiver and one queue job per delivery are
   * written in one transaction, so an accepted mail is never lost and never half-queued.
   */
  async create(dto: CreateMailDto): Promise<MailDto> {
    assertCategoryIds(dto);
    const correlationId = this.cls.getId();
    const now = new Date();
    const mail = Object.assign(new MailEntity(), {
      id: randomUUID(),
      category: dto.category,
      receiversId: dto.receiversId,
      publicationId: dto.publicationId ?? null,
      reservationId: dto.reservationId ?? null,
      productType: dto.productType ?? null,
      organizationId: dto.organizationId ?? null,
      establishmentId: dto.establishmentId ?? null,
      variables: dto.variables ?? {},
      locale: dto.locale ?? null,
      testMode: dto.testMode ?? false,
      status: MailStatus.PENDING,
      correlationId,
      sendingDate: null,
      createdAt: now,
      updatedAt: now,
    });
    const deliveries = dto.receiversId.map((receiverId, position) => {
      const id = randomUUID();
      return Object.assign(new DeliveryEntity(), {
        id,
        mailId: mail.id,
        position,
        receiverId,
        status: DeliveryStatus.PENDING,
        attempts: 0,
        email: null,
        messageId: `<${id}@${this.messageIdDomain}>`,
        sentAt: null,
        error: null,
        updatedAt: now,
      });
    });
    await this.mails.transaction(async (manager) => {
      await this.mails.insertMail(manager, mail, deliveries);
      await this.queue.enqueue<MailDeliveryJob>(MAIL_DELIVERY_QUEUE, deliveries.map((d) => ({ deliveryId: d.id, correlationId })), manager);
    });
    this.metrics.mailsAccepted.inc({ category: mail.category });
    return this.mapper.toDto(mail, deliveries);
  }

  async findOne(id: string): Promise<MailDto> {
    const found = await this.mails.findWithDeliveries(id);
    if (!found) throw ApiError.notFound(`Mail ${id}`);
    return this.mapper.toDto(found.mail, found.deliveries);
  }

  async list(query: ListMailsQueryDto): Promise<MailPageDto> {
    const { rows, total } = await this.mails.findPage(query);
    return this.mapper.toPage(rows, total, query);
  }
}

/** The ids a category needs to build its mail and its button link (400 when one is missing). */
function assertCategoryIds(dto: CreateMailDto): void {
  const details: ErrorDetail[] = CATEGORY_RULES[dto.category].requires
    .filter((field) => dto[field] === undefined)
    .map((field) => ({ field, location: 'body', issue: `is required for category ${dto.category}` }));
  if (details.length) throw ApiError.validation(details);
}
