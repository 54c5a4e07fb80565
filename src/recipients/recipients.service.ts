import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { PutRecipientDto } from './dto/put-recipient.dto';
import { RecipientDto } from './dto/recipient.dto';
import { RecipientMapper } from './recipient.mapper';
import { RecipientRepository } from './recipient.repository';
import { DirectoryEntry, UserDirectoryClient } from './user-directory.client';

export type ResolvedRecipient = DirectoryEntry;

@Injectable()
export class RecipientsService {
  constructor(
    private readonly recipients: RecipientRepository,
    private readonly directory: UserDirectoryClient,
    private readonly mapper: RecipientMapper,
  ) {}

  async put(id: string, dto: PutRecipientDto): Promise<{ recipient: RecipientDto; created: boolean }> {
    const { recipient, created } = await this.recipients.upsert(id, {
      email: dto.email,
      firstName: dto.firstName ?? null,
      lastName: dto.lastName ?? null,
      locale: dto.locale ?? null,
    });
    return { recipient: this.mapper.toDto(recipient), created };
  }

  async get(id: string): Promise<RecipientDto> {
    const recipient = await this.recipients.findById(id);
    if (!recipient) throw ApiError.notFound(`Recipient ${id}`);
    return this.mapper.toDto(recipient);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.recipients.deleteById(id))) throw ApiError.notFound(`Recipient ${id}`);
  }

  /**
   * The HTTP user directory's answer for an id the directory table does not hold (the delivery
   * worker reads the table in its claim already). Null when unknown or not configured.
   */
  lookUpDirectory(id: string): Promise<ResolvedRecipient | null> {
    return this.directory.lookUp(id);
  }
}
