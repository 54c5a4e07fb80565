import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { FileScope } from './file.policy';

export interface StoredFile {
  id: string;
  sha256: string;
  filename: string;
  contentType: string;
  size: number;
  uploadedBy: string | null;
  createdAt: Date;
}

/** Files and their bytes, stored once per SHA-256 (`file_blob`); one `file` row per upload. */
@Injectable()
export class FileRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async hasBlob(sha256: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM file_blob WHERE sha256 = $1`, [sha256]);
    return rows.length > 0;
  }

  /** Stores the bytes unless equal bytes are stored already. */
  async insertBlob(manager: EntityManager, sha256: string, bytes: Buffer): Promise<void> {
    await manager.query(
      `INSERT INTO file_blob (sha256, bytes, size) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING`,
      [sha256, bytes, bytes.length],
    );
  }

  /** The bytes are known to be stored (hasBlob): keeps them from a concurrent delete until commit. */
  async lockBlob(manager: EntityManager, sha256: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM file_blob WHERE sha256 = $1 FOR KEY SHARE`, [sha256]);
    return rows.length > 0;
  }

  async insert(manager: EntityManager, file: StoredFile): Promise<void> {
    await manager.query(
      `INSERT INTO file (id, sha256, filename, content_type, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [file.id, file.sha256, file.filename, file.contentType, file.uploadedBy, file.createdAt],
    );
  }

  async find(id: string, scope: FileScope): Promise<StoredFile | null> {
    const rows: FileRow[] = await this.dataSource.query(
      `SELECT f.*, b.size FROM file f JOIN file_blob b USING (sha256)
       WHERE f.id = $1 AND ($2::boolean OR f.uploaded_by = $3)`,
      [id, scope.all, scope.all ? null : scope.uploaderId],
    );
    return rows.length ? toFile(rows[0]) : null;
  }

  async findContent(id: string, scope: FileScope): Promise<{ file: StoredFile; bytes: Buffer } | null> {
    const rows: Array<FileRow & { bytes: Buffer }> = await this.dataSource.query(
      `SELECT f.*, b.size, b.bytes FROM file f JOIN file_blob b USING (sha256)
       WHERE f.id = $1 AND ($2::boolean OR f.uploaded_by = $3)`,
      [id, scope.all, scope.all ? null : scope.uploaderId],
    );
    return rows.length ? { file: toFile(rows[0]), bytes: rows[0].bytes } : null;
  }
}

interface FileRow {
  id: string;
  sha256: string;
  filename: string;
  content_type: string;
  size: number;
  uploaded_by: string | null;
  created_at: Date;
}

function toFile(row: FileRow): StoredFile {
  return {
    id: row.id,
    sha256: row.sha256,
    filename: row.filename,
    contentType: row.content_type,
    size: row.size,
    uploadedBy: row.uploaded_by,
    createdAt: row.created_at,
  };
}
