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
  /** Sending date of its oldest unread message. */
  oldest: Date;
  newest: Date;
  trip_reference: string;
  last_message_id: string | null;
}

/**
 * Read markers and unread counts. Unread = addressed to the participant and not READ; the partial
 * index conversation_message_unread_idx holds only such rows, so every count here reads the unread
 * messages alone, not the participant's whole history.
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
      const rows: ReadMarkerRow[] = await manager.query(`SELECT * FROM read_marker WHERE conversation_id = $1 AND participant_id = $2`, [conversationId, participantId]);
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
      `SELECT count(*)::int AS n FROM conversation_message WHERE receiver_id = $1 AND conversation_id = $2 AND status <> 'READ'`,
      [participantId, conversationId],
    );
    return rows[0].n;
  }

  /** Unread messages per conversation of a participant, most recent activity first. */
  unreadByConversation(participantId: string, manager: EntityManager = this.dataSource.manager): Promise<UnreadConversationRow[]> {
    return manager.query(
      `SELECT u.conversation_id, u.unread, u.oldest, u.newest, c.trip_reference, c.last_message_id
       FROM (
         SELECT conversation_id, count(*)::int AS unread, min(sending_date) AS oldest, max(sending_date) AS newest
         FROM conversation_message WHERE receiver_id = $1 AND status <> 'READ'
         GROUP BY conversation_id
       ) u JOIN conversation c ON c.id = u.conversation_id
       ORDER BY c.updated_at DESC, c.id DESC`,
      [participantId],
    );
  }

  /** Unread counts of one participant in the given conversations (absent: zero). */
  async unreadCounts(participantId: string, conversationIds: string[]): Promise<Map<string, number>> {
    if (!conversationIds.length) return new Map();
    const rows: Array<{ conversation_id: string; n: number }> = await this.dataSource.query(
      `SELECT conversation_id, count(*)::int AS n FROM conversation_message
       WHERE receiver_id = $1 AND conversation_id = ANY($2::uuid[]) AND status <> 'READ'
       GROUP BY conversation_id`,
      [participantId, conversationIds],
    );
    return new Map(rows.map((row) => [row.conversation_id, row.n]));
  }
}
