/**
 * The dashboard's dispatch rules, in Node: grouping related alerts (nothing hidden), who sees Claim or
 * Unclaim, merging a thread's live and loaded messages, checking server JSON, and when a responder's position
 * is sent (15 s, 50 m, heartbeat).
 */
import { describe, expect, it } from 'vitest';
import {
  claimAction,
  formatDistance,
  groupRelated,
  HEARTBEAT_MS,
  mergeMessages,
  messageProblem,
  metresBetween,
  onTheWay,
  parseMessage,
  parseNearby,
  parseResponder,
  PositionThrottle,
  SEND_EVERY_MS,
  type ThreadMessage,
} from '../../web/src/dispatch.js';
import { parseAlert, type Alert, type User } from '../../web/src/model.js';

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id,
  type: 'fire',
  severity: 'high',
  status: 'open',
  location: { lat: -33.9249, lon: 18.4241 },
  reporter: { id: 'u-mia', username: 'mia' },
  created_at: '2026-01-01T10:00:00.000Z',
  updated_at: '2026-01-01T10:00:00.000Z',
  escalations: 0,
  history: [{ event: 'raised', at: '2026-01-01T10:00:00.000Z' }],
  ...over,
});

const rita: User = { id: 'u-rita', username: 'rita', role: 'responder' };
const rae: User = { id: 'u-rae', username: 'rae', role: 'responder' };
const ada: User = { id: 'u-ada', username: 'ada', role: 'admin' };
const mia: User = { id: 'u-mia', username: 'mia', role: 'member' };

const msg = (id: string, text = `m${id}`): ThreadMessage => ({ id, alert_id: '1-0', at: '2026-01-01T10:00:00.000Z', by: { id: 'u-rita', username: 'rita' }, text });

describe('related alerts on the board', () => {
  it('groups related reports under the oldest open one, newest group first, every alert exactly once', () => {
    // 10 (resolved) ← 11 (open) ← 13, 14: one group led by 11, the oldest open one; 12 alone.
    const alerts = [
      alert('14-0', { related: ['11-0', '13-0'] }),
      alert('13-0', { related: ['11-0', '14-0'] }),
      alert('12-0'),
      alert('11-0', { related: ['10-0', '13-0', '14-0'] }),
      alert('10-0', { status: 'resolved', related: ['11-0'] }),
    ];
    const rows = groupRelated(alerts);
    expect(rows.map((r) => [r.alert.id, r.under ?? '', r.nearby])).toEqual([
      ['11-0', '', 3],
      ['14-0', '11-0', 0],
      ['13-0', '11-0', 0],
      ['10-0', '11-0', 0],
      ['12-0', '', 0],
    ]);
    expect(new Set(rows.map((r) => r.alert.id)).size).toBe(alerts.length);
  });

  it('leads with the oldest when none is active, ignores links to alerts not shown, and keeps unrelated alerts newest first', () => {
    const rows = groupRelated([alert('5-0', { status: 'cancelled', related: ['4-0', '99-0'] }), alert('4-0', { status: 'resolved', related: ['5-0'] }), alert('3-0', { related: ['98-0'] })]);
    expect(rows.map((r) => [r.alert.id, r.under ?? '', r.nearby])).toEqual([
      ['4-0', '', 1],
      ['5-0', '4-0', 0],
      ['3-0', '', 0],
    ]);
    expect(groupRelated([alert('2-0'), alert('1-0')]).map((r) => r.alert.id)).toEqual(['2-0', '1-0']);
  });
});

describe('claims', () => {
  const claimed = alert('1-0', { status: 'acknowledged', assignee: { id: 'u-rita', username: 'rita', at: '2026-01-01T10:01:00.000Z', distance_m: 1234 } });

  it('offers Claim to responders and admins on active alerts, Unclaim to the holder and admins, nothing to members or on closed alerts', () => {
    expect(claimAction(rita, alert('1-0'))).toBe('claim');
    expect(claimAction(ada, alert('1-0'))).toBe('claim');
    expect(claimAction(mia, alert('1-0'))).toBeUndefined();
    expect(claimAction(rita, claimed)).toBe('unclaim');
    expect(claimAction(ada, claimed)).toBe('unclaim');
    // Someone else holds it: Claim stays, the server's 409 names the holder.
    expect(claimAction(rae, claimed)).toBe('claim');
    expect(claimAction(rita, { ...claimed, status: 'resolved' })).toBeUndefined();
    expect(claimAction(mia, claimed)).toBeUndefined();
  });

  it('says who is on the way and how far they were', () => {
    expect(onTheWay(claimed)).toBe('rita is on the way (1.2 km at claim time)');
    expect(onTheWay({ ...claimed, assignee: { id: 'u-rita', username: 'rita', at: claimed.updated_at, distance_m: null } })).toBe('rita is on the way (distance unknown at claim time)');
    expect(onTheWay(alert('1-0'))).toBeUndefined();
    expect(formatDistance(350.4)).toBe('350 m');
    expect(formatDistance(12_600)).toBe('13 km');
  });

  it('keeps assignee and related from the API and drops malformed ones', () => {
    const raw = { ...alert('1-0'), assignee: { id: 'u-rita', username: 'rita', at: '2026-01-01T10:01:00.000Z', distance_m: null }, related: ['2-0', 'nope', 3] };
    const parsed = parseAlert(JSON.parse(JSON.stringify(raw)));
    expect(parsed?.assignee).toEqual({ id: 'u-rita', username: 'rita', at: '2026-01-01T10:01:00.000Z', distance_m: null });
    expect(parsed?.related).toEqual(['2-0']);
    const bad = parseAlert({ ...raw, assignee: { id: 'u-rita', username: 'rita', distance_m: 'far' } });
    expect(bad).toBeDefined();
    expect(bad?.assignee).toBeUndefined();
  });
});

describe('threads', () => {
  it('merges loaded and live messages by id, in id order, never twice', () => {
    let t = mergeMessages([], [msg('2-0')]);
    t = mergeMessages(t, [msg('1-0'), msg('2-0'), msg('10-0')]);
    expect(t.map((m) => m.id)).toEqual(['1-0', '2-0', '10-0']);
    expect(mergeMessages(t, [msg('1-0')])).toBe(t);
  });

  it('refuses an empty message and one over 1,000 characters (code points, as the server counts)', () => {
    expect(messageProblem('   ')).toMatch(/Write a message/);
    expect(messageProblem('x'.repeat(1000))).toBeUndefined();
    expect(messageProblem('😀'.repeat(1000))).toBeUndefined();
    expect(messageProblem('x'.repeat(1001))).toMatch(/at most 1000 characters \(this one has 1001\)/);
  });

  it('checks server JSON', () => {
    expect(parseMessage({ ...msg('1-0') })).toEqual(msg('1-0'));
    expect(parseMessage({ ...msg('1-0'), id: 'x' })).toBeUndefined();
    expect(parseMessage({ ...msg('1-0'), by: 'rita' })).toBeUndefined();
    expect(parseResponder({ username: 'rita', lat: -33.9, lon: 18.4, last_seen: '2026-01-01T10:00:00.000Z', available: true })).toBeDefined();
    expect(parseResponder({ username: 'rita', lat: '-33.9', lon: 18.4, last_seen: '2026-01-01T10:00:00.000Z', available: true })).toBeUndefined();
    expect(parseNearby({ username: 'rita', distance_m: 12, last_seen: '2026-01-01T10:00:00.000Z', available: false })).toEqual({ username: 'rita', distance_m: 12, last_seen: '2026-01-01T10:00:00.000Z', available: false });
    expect(parseNearby({ username: 'rita', last_seen: '2026-01-01T10:00:00.000Z', available: false })).toBeUndefined();
  });
});

describe('position reports', () => {
  const here = { lat: -33.9249, lon: 18.4241 };
  const near = { lat: -33.9251, lon: 18.4242 }; // ~24 m
  const far = { lat: -33.9260, lon: 18.4241 }; // ~122 m

  it('measures metres', () => {
    expect(metresBetween(here, near)).toBeGreaterThan(15);
    expect(metresBetween(here, near)).toBeLessThan(35);
    expect(metresBetween(here, far)).toBeGreaterThan(100);
  });

  it('sends the first position at once, then at most every 15 s unless the responder moved over 50 m, and a heartbeat while standing still', () => {
    const t = new PositionThrottle();
    expect(t.offer(here, 0)).toBe(true);
    t.begin();
    // While a report is in flight, nothing else goes.
    expect(t.offer(far, 10)).toBe(false);
    expect(t.due(10)).toBeUndefined();
    t.end(here, 100, true);
    expect(t.offer(near, 1000)).toBe(false);
    expect(t.due(1000)).toBeUndefined();
    // The small move held back goes once 15 s have passed.
    expect(t.due(100 + SEND_EVERY_MS)).toBe(near);
    t.begin();
    t.end(near, 100 + SEND_EVERY_MS, true);
    // A move over 50 m goes at once.
    expect(t.offer(far, 200 + SEND_EVERY_MS)).toBe(true);
    t.begin();
    t.end(far, 200 + SEND_EVERY_MS, true);
    // Standing still: nothing until the heartbeat.
    expect(t.offer(far, 300 + 2 * SEND_EVERY_MS)).toBe(true);
    t.begin();
    t.end(far, 300 + 2 * SEND_EVERY_MS, true);
    expect(t.due(300 + 3 * SEND_EVERY_MS)).toBeUndefined();
    expect(t.due(300 + 2 * SEND_EVERY_MS + HEARTBEAT_MS)).toBe(far);
  });

  it('retries a report the server did not take', () => {
    const t = new PositionThrottle();
    expect(t.offer(here, 0)).toBe(true);
    t.begin();
    t.end(here, 50, false);
    expect(t.due(60)).toBe(here);
  });
});
