import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '../common/errors/api-error';
import { FILE_TYPES, FileType, listedType, TypeCheck } from './file-types';

/** The part of POST /v1/files that carries the file. */
export const FILE_PART = 'file';

/** An upload read to its end, within the limits, into a temporary file (delete it with `discard`). */
export interface Upload {
  filename: string;
  contentType: FileType;
  size: number;
  sha256: string;
  path: string;
  discard(): Promise<void>;
}

/**
 * Reads the one `file` part of a multipart request as a stream: hashed, its type checked from its
 * bytes, counted, and written to a temporary file, so that memory does not follow the size of the
 * upload. Past `maxBytes` it stops reading and answers 413 (the connection is closed rather than
 * read to its end); a type outside FILE_TYPES, or bytes not of the declared type, 415.
 */
export async function readUpload(request: FastifyRequest, maxBytes: number): Promise<Upload> {
  if (!request.isMultipart())
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'The file must be sent as multipart/form-data.', [
      { field: 'Content-Type', location: 'header', issue: 'must be multipart/form-data with one part "file"' },
    ]);
  let part: MultipartFile | undefined;
  try {
    part = await request.file({
      limits: { fileSize: maxBytes + 1, files: 1, fields: 0, parts: 1, headerPairs: 20 },
      throwFileSizeLimit: false,
    });
  } catch (error) {
    throw multipartError(error);
  }
  if (!part || part.fieldname !== FILE_PART) {
    part?.file.resume();
    throw ApiError.validation([{ field: FILE_PART, location: 'body', issue: 'must be the one part, a file' }]);
  }
  const contentType = listedType(part.mimetype);
  if (!contentType) {
    throw new ApiError(
      'UNSUPPORTED_MEDIA_TYPE',
      `A file must be one of ${FILE_TYPES.join(', ')}.`,
      [
        {
          field: FILE_PART,
          location: 'body',
          value: part.mimetype.slice(0, 50),
          issue: `must be one of ${FILE_TYPES.join(', ')}`,
        },
      ],
      { connection: 'close' },
    );
  }
  const path = join(tmpdir(), `communication-upload-${randomUUID()}`);
  const discard = () => unlink(path).catch(() => undefined);
  const hash = createHash('sha256');
  const check = new TypeCheck(contentType);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) return callback(tooLarge(maxBytes));
      if (!check.push(chunk)) return callback(notOfType(contentType));
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      callback(check.end() ? null : notOfType(contentType));
    },
  });
  try {
    await pipeline(part.file, counter, createWriteStream(path));
  } catch (error) {
    await discard();
    throw error instanceof ApiError ? error : multipartError(error);
  }
  if (part.file.truncated) {
    await discard();
    throw tooLarge(maxBytes);
  }
  return { filename: safeName(part.filename), contentType, size, sha256: hash.digest('hex'), path, discard };
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    'PAYLOAD_TOO_LARGE',
    `A file may be at most ${maxBytes} bytes (FILE_MAX_BYTES).`,
    [{ field: FILE_PART, location: 'body', issue: `must be at most ${maxBytes} bytes` }],
    { connection: 'close' },
  );
}

function notOfType(type: FileType): ApiError {
  return new ApiError(
    'UNSUPPORTED_MEDIA_TYPE',
    `The bytes of the file are not ${type}.`,
    [{ field: FILE_PART, location: 'body', issue: `bytes must be of the declared type ${type}` }],
    { connection: 'close' },
  );
}

function multipartError(error: unknown): ApiError {
  const code = (error as { code?: string } | null)?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new ApiError('PAYLOAD_TOO_LARGE');
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT')
    return ApiError.validation([{ field: FILE_PART, location: 'body', issue: 'must be the one part, a file' }]);
  return ApiError.validation(
    [{ field: 'body', location: 'body', issue: 'must be a whole multipart/form-data body' }],
    'The multipart body could not be read.',
  );
}

/** The name without a path or control characters, at most 255 characters; `file` when nothing is left. */
function safeName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = [...base]
    .filter((c) => c.charCodeAt(0) > 0x1f && c.charCodeAt(0) !== 0x7f)
    .join('')
    .trim()
    .slice(0, 255);
  return clean || 'file';
}
