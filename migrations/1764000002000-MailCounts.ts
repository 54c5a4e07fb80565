import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exact counts of the mail list without scanning a million rows: the number of mails in all, per
 * category and per status, kept by statement-level triggers in the same transaction as every
 * insert and status change (one counter update per statement, not per row). Other filters are
 * selective and counted by their index.
 */
export class MailCounts1764000002000 implements MigrationInterface {
  name = 'MailCounts1764000002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE mail_count (filter text PRIMARY KEY, n bigint NOT NULL)`);
    // Sorted updates: concurrent statements take the counter rows in one order, never deadlock.
    await queryRunner.query(`
      CREATE FUNCTION mail_count_add(deltas jsonb) RETURNS void LANGUAGE sql AS $$
        INSERT INTO mail_count (filter, n)
        SELECT key, value::bigint FROM jsonb_each_text(deltas) WHERE value::bigint <> 0 ORDER BY key
        ON CONFLICT (filter) DO UPDATE SET n = mail_count.n + EXCLUDED.n
      $$`);
    await queryRunner.query(`
      CREATE FUNCTION mail_count_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM mail_count_add((
          SELECT coalesce(jsonb_object_agg(f, c), '{}') FROM (
            SELECT f, count(*) AS c FROM new_rows, LATERAL (VALUES ('all'), ('category:' || category), ('status:' || status)) v (f) GROUP BY f
          ) s));
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION mail_count_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM mail_count_add((
          SELECT coalesce(jsonb_object_agg(f, c), '{}') FROM (
            SELECT f, sum(d) AS c FROM (
              SELECT 'status:' || status AS f, -1 AS d FROM old_rows UNION ALL SELECT 'status:' || status, 1 FROM new_rows
            ) changes GROUP BY f
          ) s));
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER mail_count_insert AFTER INSERT ON mail REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mail_count_on_insert()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER mail_count_update AFTER UPDATE ON mail REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mail_count_on_update()`,
    );
    await queryRunner.query(`
      INSERT INTO mail_count (filter, n)
      SELECT f, count(*) FROM mail, LATERAL (VALUES ('all'), ('category:' || category), ('status:' || status)) v (f) GROUP BY f`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER mail_count_update ON mail`);
    await queryRunner.query(`DROP TRIGGER mail_count_insert ON mail`);
    await queryRunner.query(`DROP FUNCTION mail_count_on_update, mail_count_on_insert, mail_count_add`);
    await queryRunner.query(`DROP TABLE mail_count`);
  }
}
