import { Injectable } from '@nestjs/common';
import { LinksBuilder } from '../common/links/links.builder';
import { RecipientDto } from './dto/recipient.dto';
import { RecipientEntity } from './recipient.entity';

@Injectable()
export class RecipientMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(recipient: RecipientEntity): RecipientDto {
    const path = `/v1/recipients/${encodeURIComponent(recipient.id)}`;
    return {
      id: recipient.id,
      email: recipient.email,
      firstName: recipient.firstName,
      lastName: recipient.lastName,
      locale: recipient.locale,
      createdAt: recipient.createdAt.toISOString(),
      updatedAt: recipient.updatedAt.toISOString(),
      links: [
        this.links.link('self', 'GET', path, 'Get this recipient'),
        this.links.link('update', 'PUT', path, 'Replace this recipient'),
        this.links.link('delete', 'DELETE', path, 'Remove this recipient from the directory'),
      ],
    };
  }
}
