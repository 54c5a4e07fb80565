import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface ReadMarkerRow {
  participant_id: string;
  last_read_message_id: string;
  last_read_sending_date: Date;
  last_read_at: Date;
}

export interface UnreadConversationRow {
  conversation_id: string;
  unread: number;
  /** Sending date of its oldest unread message newer than the `after` of the query (null: none). */
  oldest_after: Date | null;
  /** Null only if the counter and the messages disagree (then the row is ignored). */
  newest: Date | null;
  trip_reference: string;
  last_message_id: string | null;
}

/**
 * Read markers and unread counts. Unread = addressed to the participant and not READ. Counts are
 * read from `unread_count`, kept by triggers in the transaction of every insert and status change
 * (migration UnreadCounts1764000006000): one row per conversation, however many messages. The
 * digest's dates come from the partial index conversation_message_unread_idx, which holds only
 * unread messages (a min or max there is one index probe per conversation).
 */
@Injectable()
export class ReadMarkerRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Moves the marker to `messageSendingDate` unless it is already there or later (never backwards)
   * and marks READ every earlier message addressed to the participant. Returns the marker as it
   * stands and the ids of the messages that became READ.
   */
  async advance(
    manager: EntityManager,
    conversationId: string,
    participantId: string,
    messageId: string,
    messageSendingDate: Date,
    now: Date,
  ): Promise<{ marker: ReadMarkerRow; moved: boolean; readIds: string[] }> {
    const moved: ReadMarkerRow[] = await manager.query(
      `INSERT INTO read_marker (conversation_id, participant_id, last_read_message_id, last_read_sending_date, last_read_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (conversation_id, participant_id) DO UPDATE
         SET last_read_message_id = EXCLUDED.last_read_message_id, last_read_sending_date = EXCLUDED.last_read_sending_date, last_read_at = EXCLUDED.last_read_at
         WHERE read_marker.last_read_sending_date < EXCLUDED.last_read_sending_date
       RETURNING participant_id, last_read_message_id, last_read_sending_date, last_read_at`,
      [conversationId, participantId, messageId, messageSendingDate, now],
    );
    if (!moved.length) {
      const rows: ReadMarkerRow[] = await manager.query(
        `SELECT * FROM read_marker WHERE conversation_id = $1 AND participant_id = $2`,
        [conversationId, participantId],
      );
      return { marker: rows[0], moved: false, readIds: [] };
    }
    const read: Array<{ id: string }> = await manager.query(
      `UPDATE conversation_message SET status = 'READ', received_date = coalesce(received_date, $4)
       WHERE receiver_id = $2 AND conversation_id = $1 AND status <> 'READ' AND sending_date <= $3
       RETURNING id`,
      [conversationId, participantId, messageSendingDate, now],
    );
    return { marker: moved[0], moved: true, readIds: read.map((r) => r.id) };
  }

  async unreadIn(manager: EntityManager, conversationId: string, participantId: string): Promise<number> {
    const rows: Array<{ n: number }> = await manager.query(
      `SELECT n FROM unread_count WHERE participant_id = $1 AND conversation_id = $2`,
      [participantId, conversationId],
    );
    return rows[0]?.n ?? 0;
  }

  /** Conversations with unread messages of a participant, most recent activity first. */
  unreadConversations(
    participantId: string,
  ): Promise<Array<{ conversation_id: string; unread: number; last_message_id: string | null }>> {
    return this.dataSource.query(
      `SELECT u.conversation_id, u.n AS unread, c.last_message_id
       FROM unread_count u JOIN conversation c ON c.id = u.conversation_id
       WHERE u.participant_id = $1 AND u.n > 0
       ORDER BY c.updated_at DESC, c.id DESC`,
      [participantId],
    );
  }

  /**
   * Unread messages per conversation of a participant, most recent activity first, with the
   * oldest one sent after `after` (what a digest has not covered yet).
   */
  unreadByConversation(
    participantId: string,
    manager: EntityManager = this.dataSource.manager,
    after: Date | null = null,
  ): Promise<UnreadConversationRow[]> {
    return manager.query(
      `SELECT u.conversation_id, u.n AS unread, c.trip_reference, c.last_message_id,
              (SELECT max(m.sending_date) FROM conversation_message m
               WHERE m.receiver_id = $1 AND m.conversation_id = u.conversation_id AND m.status <> 'READ') AS newest,
              (SELECT min(m.sending_date) FROM conversation_message m
               WHERE m.receiver_id = $1 AND m.conversation_id = u.conversation_id AND m.status <> 'READ'
                 AND ($2::timestamptz IS NULL OR m.sending_date > $2::timestamptz)) AS oldest_after
       FROM unread_count u JOIN conversation c ON c.id = u.conversation_id
       WHERE u.participant_id = $1 AND u.n > 0
       ORDER BY c.updated_at DESC, c.id DESC`,
      [participantId, after],
    );
  }

  /** Unread counts of one participant in the given conversations (absent: zero). */
  async unreadCounts(participantId: string, conversationIds: string[]): Promise<Map<string, number>> {
    if (!conversationIds.length) return new Map();
    const rows: Array<{ conversation_id: string; n: number }> = await this.dataSource.query(
      `SELECT conversation_id, n FROM unread_count WHERE participant_id = $1 AND conversation_id = ANY($2::uuid[])`,
      [participantId, conversationIds],
    );
    return new Map(rows.map((row) => [row.conversation_id, row.n]));
  }
}
