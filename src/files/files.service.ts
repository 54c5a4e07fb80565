import { HttpStatus, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { currentCaller } from '../auth/caller';
import { ApiError } from '../common/errors/api-error';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { FileDto } from './dto/file.dto';
import type { Upload } from './file-upload.reader';
import { FileMapper } from './file.mapper';
import { FilePolicy } from './file.policy';
import { FileRepository, StoredFile } from './file.repository';

/** Files (contract A5): stored once per SHA-256, read by services, admins and their uploader. */
@Injectable()
export class FilesService {
  constructor(
    private readonly files: FileRepository,
    private readonly mapper: FileMapper,
    private readonly policy: FilePolicy,
    private readonly idempotency: IdempotencyService,
  ) {}

  /**
   * The file row, its bytes unless equal bytes are stored already, and the Idempotency-Key's
   * answer, in one transaction. The bytes are read from the temporary file only when they are new.
   */
  async create(upload: Upload): Promise<FileDto> {
    try {
      const file: StoredFile = {
        id: randomUUID(),
        sha256: upload.sha256,
        filename: upload.filename,
        contentType: upload.contentType,
        size: upload.size,
        uploadedBy: currentCaller().id,
        createdAt: new Date(),
      };
      const answer = this.mapper.toDto(file);
      const known = await this.files.hasBlob(upload.sha256);
      const bytes = known ? null : await readFile(upload.path);
      await this.files.transaction(async (manager) => {
        if (!bytes && !(await this.files.lockBlob(manager, upload.sha256)))
          await this.files.insertBlob(manager, upload.sha256, await readFile(upload.path));
        if (bytes) await this.files.insertBlob(manager, upload.sha256, bytes);
        await this.files.insert(manager, file);
        await this.idempotency.storeWithin(manager, HttpStatus.CREATED, answer);
      });
      return answer;
    } finally {
      await upload.discard();
    }
  }

  async get(id: string): Promise<FileDto> {
    const file = await this.files.find(id, this.policy.scope(currentCaller()));
    if (!file) throw ApiError.notFound(`File ${id}`);
    return this.mapper.toDto(file);
  }

  async content(id: string): Promise<{ file: StoredFile; bytes: Buffer }> {
    const found = await this.files.findContent(id, this.policy.scope(currentCaller()));
    if (!found) throw ApiError.notFound(`File ${id}`);
    return found;
  }
}
