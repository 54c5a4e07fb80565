import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { MailCategory } from '../catalog/mail-category';
import { AppConfig, InjectConfig } from '../config/app.config';
import { MailWriter } from '../mails/mail.writer';
import { ReadMarkerRepository, UnreadConversationRow } from './read-marker.repository';

interface DigestRow {
  receiver_id: string;
  mail_id: string | null;
  scheduled_at: Date | null;
  /** Sending date of the newest message the scheduled digest covers. */
  scheduled_through: Date | null;
  last_sent_at: Date | null;
  sent_through: Date | null;
}

/**
 * The unread-mail fallback. A receiver with unread messages has one digest mail SCHEDULED in the
 * ordinary mail pipeline (durable: a restart loses none, the delivery claim sends none twice), due
 * UNREAD_MAIL_DELAY_SECONDS after the oldest unread message it covers and at least
 * UNREAD_MAIL_INTERVAL_SECONDS after the previous digest. Every change of what a receiver has
 * unread (a message to them, their read marker) calls `refresh` in its own transaction: the
 * scheduled digest is cancelled and, when something is still unread, scheduled again with the
 * current list, so the mail that goes out never lists something read in time. A digest whose
 * sending began cannot be cancelled any more: it counts as sent, and the messages it covered are
 * not mailed again.
 */
@Injectable()
export class UnreadDigestScheduler {
  constructor(
    private readonly markers: ReadMarkerRepository,
    private readonly mails: MailWriter,
    private readonly cls: ClsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async refresh(manager: EntityManager, receiverId: string, now = new Date()): Promise<void> {
    await manager.query(
      `INSERT INTO unread_digest (receiver_id, scheduled_through, sent_through) VALUES ($1, NULL, NULL) ON CONFLICT (receiver_id) DO NOTHING`,
      [receiverId],
    );
    // The receiver's row serializes every refresh of that receiver across instances.
    const [digest]: DigestRow[] = await manager.query(`SELECT * FROM unread_digest WHERE receiver_id = $1 FOR UPDATE`, [
      receiverId,
    ]);
    let { last_sent_at: lastSentAt, sent_through: sentThrough } = digest;
    let unread = await this.markers.unreadByConversation(receiverId, manager, sentThrough);
    const pending = digest.mail_id;
    const wanted = plan(unread, lastSentAt, this.config.live);
    if (
      pending &&
      wanted &&
      digest.scheduled_at?.getTime() === wanted.scheduledAt.getTime() &&
      JSON.stringify(await this.mails.scheduledVariables(manager, pending)) === JSON.stringify(wanted.variables)
    ) {
      // Same mail, same time: it now also covers the newer messages.
      await manager.query(`UPDATE unread_digest SET scheduled_through = $2 WHERE receiver_id = $1`, [
        receiverId,
        wanted.through,
      ]);
      return;
    }
    let next = wanted;
    if (pending) {
      const { cancelled } = await this.mails.cancel(
        manager,
        { mailId: pending, leaveInFlight: true },
        this.cls.getId() ?? null,
      );
      if (!cancelled.length) {
        // Its sending has begun: it went out (or is going out) with what it listed.
        lastSentAt = digest.scheduled_at;
        sentThrough = digest.scheduled_through;
        unread = await this.markers.unreadByConversation(receiverId, manager, sentThrough);
        next = plan(unread, lastSentAt, this.config.live);
      }
    }
    let mailId: string | null = null;
    if (next) {
      [mailId] = await this.mails.create(
        manager,
        [
          {
            category: MailCategory.CONVERSATION_UNREAD_MESSAGES,
            receivers: [{ id: receiverId }],
            variables: next.variables,
            scheduledAt: next.scheduledAt,
            correlationId: this.cls.getId() ?? randomUUID(),
          },
        ],
        now,
      );
    }
    await manager.query(
      `UPDATE unread_digest SET mail_id = $2, scheduled_at = $3, scheduled_through = $4, last_sent_at = $5, sent_through = $6 WHERE receiver_id = $1`,
      [receiverId, mailId, next?.scheduledAt ?? null, next?.through ?? null, lastSentAt, sentThrough],
    );
  }
}

export interface DigestPlan {
  scheduledAt: Date;
  /** Sending date of the newest message covered. */
  through: Date;
  variables: Record<string, string | number>;
}

/**
 * The digest a receiver should have scheduled, or null: only when a message newer than what the
 * last digest covered is unread (`oldest_after`); due the delay after the oldest such message, and
 * not before the interval since the last digest. Lists every conversation with unread messages.
 */
export function plan(
  rows: UnreadConversationRow[],
  lastSentAt: Date | null,
  live: { unreadMailDelaySeconds: number; unreadMailIntervalSeconds: number },
): DigestPlan | null {
  const unread = rows.filter((c) => c.newest !== null);
  const fresh = unread.flatMap((c) => (c.oldest_after ? [c.oldest_after.getTime()] : []));
  if (!fresh.length) return null;
  const due = Math.max(
    Math.min(...fresh) + live.unreadMailDelaySeconds * 1000,
    lastSentAt ? lastSentAt.getTime() + live.unreadMailIntervalSeconds * 1000 : 0,
  );
  return {
    scheduledAt: new Date(due),
    through: new Date(Math.max(...unread.map((c) => c.newest!.getTime()))),
    variables: {
      conversationId: unread[0].conversation_id,
      conversationCount: unread.length,
      conversationList: unread.map((c) => c.trip_reference).join(', '),
    },
  };
}
