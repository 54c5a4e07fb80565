import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention per category (contract A5): `category_retention` holds the days a category's mails are
 * kept (0: for ever; a category without a row keeps MAIL_RETENTION_DAYS), and `mail.purged_at`
 * marks a mail whose personal data the maintenance job removed. The partial index is the purge's
 * way through the mails not yet purged, oldest first.
 */
export class Retention1765000120000 implements MigrationInterface {
  name = 'Retention1765000120000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE category_retention (
        category text PRIMARY KEY,
        days int NOT NULL CHECK (days BETWEEN 0 AND 36500),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`ALTER TABLE mail ADD COLUMN purged_at timestamptz NULL`);
    await queryRunner.query(`CREATE INDEX mail_unpurged_created_idx ON mail (created_at) WHERE purged_at IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX mail_unpurged_created_idx`);
    await queryRunner.query(`ALTER TABLE mail DROP COLUMN purged_at`);
    await queryRunner.query(`DROP TABLE category_retention`);
  }
}
