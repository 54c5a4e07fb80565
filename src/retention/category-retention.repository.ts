import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FIND_CATEGORY_RETENTION } from './sql/find-category-retention';
import { SET_CATEGORY_RETENTION } from './sql/set-category-retention';

/** The days each category's mails are kept (`category_retention`); the purge itself is in src/queue/sql/. */
@Injectable()
export class CategoryRetentionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The days set for the category; null: none set (the default applies). */
  async findDays(category: string): Promise<number | null> {
    const rows: Array<{ days: number }> = await this.dataSource.query(FIND_CATEGORY_RETENTION, [category]);
    return rows.length ? rows[0].days : null;
  }

  async setDays(category: string, days: number): Promise<number> {
    const [row]: Array<{ days: number }> = await this.dataSource.query(SET_CATEGORY_RETENTION, [category, days]);
    return row.days;
  }
}
