import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Access } from '../auth/access.decorator';
import { UuidParam } from '../common/http/id-params';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { AppConfig, InjectConfig } from '../config/app.config';
import { attachmentDisposition } from './content-disposition';
import { FileDto } from './dto/file.dto';
import { FILE_PART, readUpload } from './file-upload.reader';
import { FILE_TYPES } from './file-types';
import { FilesService } from './files.service';

export const MULTIPART = 'multipart/form-data';

@ApiTags('files')
@Access('service', 'admin', 'customer', 'agent')
@Controller('v1/files')
export class FilesController {
  constructor(
    private readonly files: FilesService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Upload a file (one part `file`): application/pdf, image/png, image/jpeg, text/calendar or
   * text/plain, checked from its bytes (415 otherwise), at most FILE_MAX_BYTES (413 beyond, read no
   * further). Equal bytes are stored once. A person reads their own uploads; services and admins any.
   */
  @Post()
  @Idempotent()
  @ApiConsumes(MULTIPART)
  @ApiBody({
    schema: {
      type: 'object',
      required: [FILE_PART],
      properties: {
        [FILE_PART]: { type: 'string', format: 'binary', description: `One of ${FILE_TYPES.join(', ')}.` },
      },
    },
  })
  async upload(@Req() request: FastifyRequest): Promise<FileDto> {
    return this.files.create(await readUpload(request, this.config.files.maxBytes));
  }

  /** A file's name, type, size and digest. */
  @Get(':fileId')
  get(@UuidParam('fileId') id: string): Promise<FileDto> {
    return this.files.get(id);
  }

  /** The bytes of a file, with their type and `Content-Disposition: attachment`. */
  @Get(':fileId/content')
  @ApiProduces(...FILE_TYPES)
  @ApiOkResponse({
    description: 'The bytes.',
    content: Object.fromEntries(FILE_TYPES.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
  })
  async content(@UuidParam('fileId') id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer> {
    const { file, bytes } = await this.files.content(id);
    void reply
      .type(file.contentType)
      .header('content-disposition', attachmentDisposition(file.filename))
      .header('cache-control', 'private, no-store');
    return bytes;
  }
}
