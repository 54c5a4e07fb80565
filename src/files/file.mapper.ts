import { Injectable } from '@nestjs/common';
import { LinksBuilder } from '../common/links/links.builder';
import { FileDto } from './dto/file.dto';
import { StoredFile } from './file.repository';

@Injectable()
export class FileMapper {
  constructor(private readonly links: LinksBuilder) {}

  toDto(file: StoredFile): FileDto {
    const path = `/v1/files/${file.id}`;
    return {
      id: file.id,
      filename: file.filename,
      contentType: file.contentType,
      size: file.size,
      sha256: file.sha256,
      createdAt: file.createdAt.toISOString(),
      links: [
        this.links.link('self', 'GET', path, 'Get this file'),
        this.links.link('content', 'GET', `${path}/content`, 'Download its bytes', file.contentType),
      ],
    };
  }
}
