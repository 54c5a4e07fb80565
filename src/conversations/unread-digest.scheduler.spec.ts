import { plan } from './unread-digest.scheduler';
import { UnreadConversationRow } from './read-marker.repository';

const live = { unreadMailDelaySeconds: 900, unreadMailIntervalSeconds: 3600 };
const at = (minutes: number) => new Date(Date.UTC(2027, 4, 14, 10, minutes));
/** A conversation with unread messages; `oldestAfter` null: all of them covered by the last digest. */
const row = (id: string, oldestAfter: number | null, newest: number, unread = 1): UnreadConversationRow => ({
  conversation_id: id,
  unread,
  oldest_after: oldestAfter === null ? null : at(oldestAfter),
  newest: at(newest),
  trip_reference: `VOY-${id}`,
  last_message_id: null,
});

describe('unread digest plan', () => {
  it('nothing unread: no digest', () => {
    expect(plan([], null, live)).toBeNull();
  });

  it('due the delay after the oldest unread message, listing every conversation, the button on the most recent', () => {
    const p = plan([row('b', 5, 20, 2), row('a', 0, 3)], null, live)!;
    expect(p.scheduledAt).toEqual(at(15));
    expect(p.through).toEqual(at(20));
    expect(p.variables).toEqual({ conversationId: 'b', conversationCount: 2, conversationList: 'VOY-b, VOY-a' });
  });

  it('not before the interval since the last digest', () => {
    const p = plan([row('a', 30, 30)], at(25), live)!;
    expect(p.scheduledAt).toEqual(new Date(at(25).getTime() + 3600_000));
  });

  it('messages a sent digest covered are not mailed again; a newer one is, the delay after its own date', () => {
    const noInterval = { ...live, unreadMailIntervalSeconds: 0 };
    expect(plan([row('a', null, 10)], at(25), noInterval)).toBeNull();
    const p = plan([row('a', 40, 40), row('b', null, 10)], at(25), noInterval)!;
    expect(p.scheduledAt).toEqual(at(55));
    expect(p.variables.conversationCount).toBe(2);
  });
});
