/**
 * The dashboard's pure rules, in Node: merging alerts without duplicates or regressions, which actions a
 * role may take, parsing server JSON, ages, and the tile-free map's projection.
 */
import { describe, expect, it } from 'vitest';
import { allowedActions, compareIds, formatAge, matches, mergeAlerts, newestFirst, parseAlert, SEVERITIES, type Alert, type User } from '../../web/src/model.js';
import { fitProjection, scaleBar } from '../../web/src/projection.js';

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id,
  type: 'panic',
  severity: 'high',
  status: 'open',
  location: { lat: -33.9249, lon: 18.4241, accuracy_m: 25 },
  reporter: { id: 'u-mia', username: 'mia' },
  created_at: '2026-01-01T10:00:00.000Z',
  updated_at: '2026-01-01T10:00:00.000Z',
  escalations: 0,
  history: [{ event: 'raised', at: '2026-01-01T10:00:00.000Z' }],
  ...over,
});

describe('board rules', () => {
  it('merges by alert id: a replayed copy never doubles a row, an older copy never overwrites a newer one', () => {
    const open = alert('1700000000000-0');
    const acked = alert('1700000000000-0', { status: 'acknowledged', updated_at: '2026-01-01T10:01:00.000Z', history: [...open.history, { event: 'acknowledged', at: '2026-01-01T10:01:00.000Z' }] });
    let board = mergeAlerts(new Map(), [open, alert('1700000000001-0')]);
    expect(board.size).toBe(2);
    board = mergeAlerts(board, [acked]);
    expect(board.get(open.id)?.status).toBe('acknowledged');
    const same = mergeAlerts(board, [open, acked]);
    expect(same).toBe(board);
    expect(newestFirst(board).map((a) => a.id)).toEqual(['1700000000001-0', '1700000000000-0']);
  });

  it('compares stream ids numerically, beyond 2^53', () => {
    expect(compareIds('9-0', '10-0')).toBe(-1);
    expect(compareIds('1700000000000-10', '1700000000000-9')).toBe(1);
    expect(compareIds('18446744073709551615-1', '18446744073709551615-0')).toBe(1);
  });

  it('offers the actions the server allows for the role and status', () => {
    const responder: User = { id: 'u-rita', username: 'rita', role: 'responder' };
    const member: User = { id: 'u-mia', username: 'mia', role: 'member' };
    const stranger: User = { id: 'u-max', username: 'max', role: 'member' };
    expect(allowedActions(responder, alert('1-0'))).toEqual(['ack', 'cancel']);
    expect(allowedActions(responder, alert('1-0', { status: 'acknowledged' }))).toEqual(['resolve', 'cancel']);
    expect(allowedActions({ ...responder, role: 'admin' }, alert('1-0', { status: 'resolved' }))).toEqual([]);
    expect(allowedActions(member, alert('1-0'))).toEqual(['cancel']);
    expect(allowedActions(member, alert('1-0', { status: 'acknowledged' }))).toEqual([]);
    expect(allowedActions(stranger, alert('1-0'))).toEqual([]);
  });

  it('filters by severity and status', () => {
    const f = { severities: new Set(SEVERITIES.filter((s) => s !== 'low')), status: 'active' as const };
    expect(matches(alert('1-0'), f)).toBe(true);
    expect(matches(alert('1-0', { severity: 'low' }), f)).toBe(false);
    expect(matches(alert('1-0', { status: 'resolved' }), f)).toBe(false);
    expect(matches(alert('1-0', { status: 'resolved' }), { ...f, status: 'resolved' })).toBe(true);
  });

  it('accepts only well-formed alerts from the wire', () => {
    expect(parseAlert(JSON.parse(JSON.stringify(alert('1-0'))))).toEqual(alert('1-0'));
    expect(parseAlert({ ...alert('1-0'), severity: 'apocalyptic' })).toBeUndefined();
    expect(parseAlert({ ...alert('1-0'), location: { lat: 'x', lon: 1 } })).toBeUndefined();
    expect(parseAlert(null)).toBeUndefined();
  });

  it('formats ages compactly', () => {
    const t0 = Date.parse('2026-01-01T10:00:00.000Z');
    expect(formatAge('2026-01-01T10:00:00.000Z', t0 + 4_000)).toBe('4 s');
    expect(formatAge('2026-01-01T10:00:00.000Z', t0 + 180_000)).toBe('3 min');
    expect(formatAge('2026-01-01T10:00:00.000Z', t0 + 125 * 60_000)).toBe('2 h 5 min');
    expect(formatAge('2026-01-01T10:00:00.000Z', t0 + 3 * 86_400_000)).toBe('3 d');
  });
});

describe('map projection', () => {
  const pts = [
    { lat: -33.92, lon: 18.42, accuracy_m: 50 },
    { lat: -33.94, lon: 18.45, accuracy_m: 500 },
  ];

  it('fits every point inside the padded area, north up and east right', () => {
    const p = fitProjection(pts, 600, 400, 20);
    for (const pt of pts) {
      const { x, y } = p.project(pt);
      expect(x).toBeGreaterThanOrEqual(20);
      expect(x).toBeLessThanOrEqual(580);
      expect(y).toBeGreaterThanOrEqual(20);
      expect(y).toBeLessThanOrEqual(380);
    }
    const north = p.project({ lat: -33.92, lon: 18.43 });
    const south = p.project({ lat: -33.94, lon: 18.43 });
    expect(north.y).toBeLessThan(south.y);
    expect(p.project({ lat: -33.93, lon: 18.45 }).x).toBeGreaterThan(p.project({ lat: -33.93, lon: 18.42 }).x);
  });

  it('keeps metres equal on both axes (one scale) and draws accuracy to scale', () => {
    const p = fitProjection(pts, 600, 400);
    const a = p.project({ lat: -33.93, lon: 18.43 });
    // 0.001° of latitude ≈ 111 m; the same distance east at this latitude is 0.001° / cos(lat).
    const north = p.project({ lat: -33.929, lon: 18.43 });
    const east = p.project({ lat: -33.93, lon: 18.43 + 0.001 / Math.cos((33.93 * Math.PI) / 180) });
    expect(Math.abs(a.y - north.y)).toBeCloseTo(Math.abs(east.x - a.x), 0);
    expect(p.metres(111.32)).toBeCloseTo(Math.abs(a.y - north.y), 1);
  });

  it('does not zoom in without limit on a single alert, and picks a round scale bar', () => {
    const p = fitProjection([{ lat: 0, lon: 0 }], 600, 400);
    expect(p.metresPerUnit).toBeGreaterThan(1);
    const bar = scaleBar(p, 150);
    expect([1, 2, 5]).toContain(Number(String(bar.metres).replace(/0+$/, '')));
    expect(bar.units).toBeLessThanOrEqual(150);
  });
});
