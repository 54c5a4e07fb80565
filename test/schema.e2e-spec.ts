import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options';
import { createTestDatabase } from './harness';

/**
 * The entities describe the schema the migrations build: `npm run migration:generate` against a
 * fully migrated database has nothing to write (no index, key, constraint or column to drop).
 */
describe('Entities and migrations (real Postgres)', () => {
  it('agree: generating a migration after every migration ran yields no statement', async () => {
    const dataSource = new DataSource(dataSourceOptions(await createTestDatabase(), 2));
    await dataSource.initialize();
    try {
      await dataSource.runMigrations();
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });
});
