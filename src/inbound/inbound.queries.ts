import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { InboundMessageDto, InboundMessagePageDto, ListInboundMessagesQueryDto } from './dto/inbound-message.dto';
import { InboundMapper } from './inbound.mapper';
import { InboundRepository } from './inbound.repository';

/** The reads of GET /v1/inbound/messages. */
@Injectable()
export class InboundQueries {
  constructor(
    private readonly inbound: InboundRepository,
    private readonly mapper: InboundMapper,
  ) {}

  async list(query: ListInboundMessagesQueryDto): Promise<InboundMessagePageDto> {
    const { rows, total } = await this.inbound.findPage(query.kind, query.currentPage, query.sizePage);
    return this.mapper.toPage(rows, total, query);
  }

  async get(id: string): Promise<InboundMessageDto> {
    const record = await this.inbound.findById(id);
    if (!record) throw ApiError.notFound(`Inbound message ${id}`);
    return this.mapper.toDto(record);
  }
}
