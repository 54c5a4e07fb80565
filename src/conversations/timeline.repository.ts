import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ClsService } from 'nestjs-cls';
import { DataSource, EntityManager } from 'typeorm';
import { TimelineEntryType } from './dto/live.dto';

export interface NewTimelineEntry {
  type: TimelineEntryType;
  actorId: string | null;
  data: Record<string, unknown>;
  at?: Date;
}

export interface TimelineRow {
  id: string;
  type: TimelineEntryType;
  actor_id: string | null;
  at: Date;
  correlation_id: string | null;
  data: Record<string, unknown>;
}

/** What happened to a conversation, written by the transaction of each change (so it never lies). */
@Injectable()
export class TimelineRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cls: ClsService,
  ) {}

  async append(manager: EntityManager, conversationId: string, entries: NewTimelineEntry[]): Promise<void> {
    if (!entries.length) return;
    const correlationId = this.cls.isActive() ? (this.cls.getId() ?? null) : null;
    await manager.query(
      `INSERT INTO conversation_timeline (conversation_id, type, actor_id, at, correlation_id, data)
       SELECT $1, type, actor_id, at, $2, data
       FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::jsonb[]) WITH ORDINALITY AS t (type, actor_id, at, data, n)
       ORDER BY n`,
      [
        conversationId,
        correlationId,
        entries.map((e) => e.type),
        entries.map((e) => e.actorId),
        entries.map((e) => e.at ?? new Date()),
        entries.map((e) => JSON.stringify(e.data)),
      ],
    );
  }

  /** A page, oldest first (served by the (conversation_id, id) index). */
  async findPage(
    conversationId: string,
    currentPage: number,
    sizePage: number,
  ): Promise<{ rows: TimelineRow[]; total: number }> {
    const [rows, count]: [TimelineRow[], Array<{ n: number }>] = await Promise.all([
      this.dataSource.query(
        `SELECT * FROM conversation_timeline WHERE conversation_id = $1 ORDER BY id LIMIT $2 OFFSET $3`,
        [conversationId, sizePage, (currentPage - 1) * sizePage],
      ),
      this.dataSource.query(`SELECT count(*)::int AS n FROM conversation_timeline WHERE conversation_id = $1`, [
        conversationId,
      ]),
    ]);
    return { rows: rows.map((row) => ({ ...row, id: String(row.id) })), total: count[0].n };
  }
}
