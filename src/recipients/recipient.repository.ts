import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { RecipientEntity } from './recipient.entity';

export type RecipientFields = Pick<RecipientEntity, 'email' | 'firstName' | 'lastName' | 'locale'>;

@Injectable()
export class RecipientRepository {
  private readonly repository: Repository<RecipientEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repository = dataSource.getRepository(RecipientEntity);
  }

  /** Creates or replaces in one statement; `created` tells which (for 201 vs 200). */
  async upsert(id: string, fields: RecipientFields): Promise<{ recipient: RecipientEntity; created: boolean }> {
    const rows: Array<Record<string, unknown>> = await this.repository.query(
      `INSERT INTO recipient (id, email, first_name, last_name, locale) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, first_name = EXCLUDED.first_name,
         last_name = EXCLUDED.last_name, locale = EXCLUDED.locale, updated_at = now()
       RETURNING *, (xmax = 0) AS created`,
      [id, fields.email, fields.firstName, fields.lastName, fields.locale],
    );
    const row = rows[0];
    return {
      created: row.created as boolean,
      recipient: this.repository.create({
        id: row.id as string,
        email: row.email as string,
        firstName: row.first_name as string | null,
        lastName: row.last_name as string | null,
        locale: row.locale as string | null,
        createdAt: row.created_at as Date,
        updatedAt: row.updated_at as Date,
      }),
    };
  }

  findById(id: string): Promise<RecipientEntity | null> {
    return this.repository.findOneBy({ id });
  }

  async deleteById(id: string): Promise<boolean> {
    const result = await this.repository.delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
