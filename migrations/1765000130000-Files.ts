import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Files (contract A5): the bytes once per SHA-256 (`file_blob`), and one `file` row per upload
 * naming them, with the name and type it was sent with and who sent it (`uploaded_by`, the
 * caller's id; null for a service without a name).
 */
export class Files1765000130000 implements MigrationInterface {
  name = 'Files1765000130000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE file_blob (
        sha256 text NOT NULL,
        bytes bytea NOT NULL,
        size integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT file_blob_pkey PRIMARY KEY (sha256)
      )`);
    await queryRunner.query(`
      CREATE TABLE file (
        id uuid NOT NULL,
        sha256 text NOT NULL,
        filename text NOT NULL,
        content_type text NOT NULL,
        uploaded_by text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT file_pkey PRIMARY KEY (id),
        CONSTRAINT file_sha256_fkey FOREIGN KEY (sha256) REFERENCES file_blob (sha256)
      )`);
    await queryRunner.query(`CREATE INDEX file_sha256_idx ON file (sha256)`);
    await queryRunner.query(`CREATE INDEX file_uploaded_by_idx ON file (uploaded_by, created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE file`);
    await queryRunner.query(`DROP TABLE file_blob`);
  }
}
