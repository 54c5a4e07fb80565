import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ClsService } from 'nestjs-cls';
import { DataSource, EntityManager } from 'typeorm';

/** An event to write; `data` is the resource as the API shows it (or what a consumer needs to render it). */
export interface NewEvent {
  type: string;
  data: unknown;
  /** Defaults to the correlation id of the request or job being served. */
  correlationId?: string | null;
  /** Routing of the Server-Sent Events: the conversation concerned and who takes part in it. */
  conversationId?: string | null;
  participantIds?: string[] | null;
}

export interface StoredEvent {
  /** bigint as text: the SSE `id` and the base of `webhook-id`. */
  id: string;
  type: string;
  data: unknown;
  correlationId: string | null;
  conversationId: string | null;
  participantIds: string[] | null;
  createdAt: Date;
}

/**
 * The outbox (DESIGN.md "Events: one outbox, three consumers").
 *
 * - `append(manager, events)` writes events inside the caller's transaction: they exist if and
 *   only if the change commits. A statement trigger (migration Events1764000004000) then
 *   `pg_notify`s their ids on channel `events` (EVENTS_CHANNEL), delivered on commit only;
 *   SQL that writes events itself (e.g. a CTE `INSERT INTO event` in a settle statement) gets the
 *   same notification and, with webhooks, the same fan-out to subscribed endpoints.
 * - `findByIds` reads what a notification names; `findAfter` replays from a `Last-Event-ID`.
 * - `openTransactions`, `stillOpen` and `findMissing` let a reader wait for ids taken by
 *   transactions not yet committed (ids are taken at insert, commits come in another order).
 * - The 24 h retention is the maintenance job's (src/queue/sql/delete-old-events.ts).
 */
@Injectable()
export class EventsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cls: ClsService,
  ) {}

  /** Writes the events in `manager`'s transaction, in order; returns their ids. */
  async append(manager: EntityManager, events: NewEvent[]): Promise<string[]> {
    if (!events.length) return [];
    const fallback = this.cls.isActive() ? (this.cls.getId() ?? null) : null;
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO event (type, data, correlation_id, conversation_id, participant_ids)
       SELECT type, data, correlation_id, conversation_id, ARRAY(SELECT jsonb_array_elements_text(participants))
       FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::uuid[], $5::jsonb[]) WITH ORDINALITY
         AS t (type, data, correlation_id, conversation_id, participants, n)
       ORDER BY n
       RETURNING id`,
      [
        events.map((e) => e.type),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => e.correlationId ?? fallback),
        events.map((e) => e.conversationId ?? null),
        events.map((e) => (e.participantIds ? JSON.stringify(e.participantIds) : null)),
      ],
    );
    return rows.map((row) => String(row.id));
  }

  async findByIds(ids: string[]): Promise<StoredEvent[]> {
    if (!ids.length) return [];
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT * FROM event WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [ids],
    );
    return rows.map(toEvent);
  }

  /** Events after `afterId` (exclusive), oldest first, optionally up to `upToId` and of one conversation or participant. */
  async findAfter(
    afterId: string,
    limit: number,
    filter: { conversationId?: string; participantId?: string } = {},
    upToId?: string,
  ): Promise<StoredEvent[]> {
    const params: unknown[] = [afterId, limit];
    let where = 'id > $1::bigint';
    if (upToId !== undefined) where += ` AND id <= $${params.push(upToId)}::bigint`;
    if (filter.conversationId) where += ` AND conversation_id = $${params.push(filter.conversationId)}`;
    if (filter.participantId) where += ` AND participant_ids @> ARRAY[$${params.push(filter.participantId)}::text]`;
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT * FROM event WHERE ${where} ORDER BY id LIMIT $2`,
      params,
    );
    return rows.map(toEvent);
  }

  /** Events after `afterId` up to `upToId` (both ids), except `knownIds`, oldest first. */
  async findMissing(afterId: string, upToId: string, knownIds: string[]): Promise<StoredEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT * FROM event WHERE id > $1::bigint AND id <= $2::bigint AND NOT (id = ANY($3::bigint[])) ORDER BY id`,
      [afterId, upToId, knownIds],
    );
    return rows.map(toEvent);
  }

  /** The transactions in progress now (their top-level ids, whatever database they write to). */
  async openTransactions(): Promise<string[]> {
    const rows: Array<{ xid: string }> = await this.dataSource.query(
      `SELECT pg_snapshot_xip(pg_current_snapshot())::text AS xid`,
    );
    return rows.map((row) => row.xid);
  }

  /** Those of `xids` (from `openTransactions`) still in progress: committed or rolled back, the others have ended. */
  async stillOpen(xids: string[]): Promise<string[]> {
    const rows: Array<{ xid: string }> = await this.dataSource.query(
      `SELECT x::text AS xid FROM unnest($1::xid8[]) AS x WHERE NOT pg_visible_in_snapshot(x, pg_current_snapshot())`,
      [xids],
    );
    return rows.map((row) => row.xid);
  }
}

interface EventRow {
  id: string;
  type: string;
  data: unknown;
  correlation_id: string | null;
  conversation_id: string | null;
  participant_ids: string[] | null;
  created_at: Date;
}

function toEvent(row: EventRow): StoredEvent {
  return {
    id: String(row.id),
    type: row.type,
    data: row.data,
    correlationId: row.correlation_id,
    conversationId: row.conversation_id,
    participantIds: row.participant_ids,
    createdAt: row.created_at,
  };
}
