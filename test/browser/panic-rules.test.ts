/**
 * The panic page's pure rules, in Node: which fix it keeps, when a fix is worth a location update, and the
 * notification a push becomes (type, severity, where, tag).
 */
import { describe, expect, it } from 'vitest';
import { notificationOf } from '../../web/sw/notification.js';
import { metresBetween as distanceM } from '../../web/src/dispatch.js';
import { better, locationOf, worthUpdate, type Fix } from '../../web/src/panic/geo.js';

const fix = (over: Partial<Fix> = {}): Fix => ({ lat: -33.9249, lon: 18.4241, accuracy_m: 50, at: 1_000_000, ...over });

describe('panic page location rules', () => {
  it('keeps the more accurate fix, but a stale one gives way to any newer fix', () => {
    expect(better(undefined, fix())).toBe(true);
    expect(better(fix({ accuracy_m: 50 }), fix({ accuracy_m: 20, at: 1_001_000 }))).toBe(true);
    expect(better(fix({ accuracy_m: 20 }), fix({ accuracy_m: 500, at: 1_005_000 }))).toBe(false);
    expect(better(fix({ accuracy_m: 20 }), fix({ accuracy_m: 500, at: 1_031_000 }))).toBe(true);
  });

  it('sends the fix (with a typed address), else the address alone, never made-up coordinates; neither → nothing', () => {
    expect(locationOf(fix({ accuracy_m: 12.4 }), ' 1 Long St ')).toEqual({ lat: -33.9249, lon: 18.4241, accuracy_m: 12, address: '1 Long St' });
    expect(locationOf(fix(), '  ')).toEqual({ lat: -33.9249, lon: 18.4241, accuracy_m: 50 });
    expect(locationOf(undefined, 'Kirstenbosch main gate')).toEqual({ address: 'Kirstenbosch main gate' });
    expect(locationOf(undefined, 'x'.repeat(600))).toEqual({ address: 'x'.repeat(500) });
    expect(locationOf(undefined, '   ')).toBeUndefined();
  });

  it('measures distances in metres', () => {
    // One thousandth of a degree of latitude is about 111 m.
    expect(distanceM({ lat: 0, lon: 0 }, { lat: 0.001, lon: 0 })).toBeGreaterThan(110);
    expect(distanceM({ lat: 0, lon: 0 }, { lat: 0.001, lon: 0 })).toBeLessThan(112);
    expect(distanceM(fix(), fix())).toBe(0);
  });

  it('updates on a real move or a clearly better accuracy, not on jitter inside the accuracy', () => {
    const sent = fix({ accuracy_m: 40 });
    expect(worthUpdate(undefined, sent)).toBe(true);
    expect(worthUpdate(sent, fix({ lat: sent.lat + 0.00005, accuracy_m: 40 }))).toBe(false); // ~5.5 m
    expect(worthUpdate(sent, fix({ lat: sent.lat + 0.0005, accuracy_m: 40 }))).toBe(true); // ~55 m
    expect(worthUpdate(sent, fix({ accuracy_m: 35 }))).toBe(false);
    expect(worthUpdate(sent, fix({ accuracy_m: 10 }))).toBe(true);
  });
});

describe('push notification', () => {
  it('titles type and severity, shows the address (or the coordinates), tags by alert id', () => {
    const n = notificationOf({ event: 'alert.raised', id: '1-0', type: 'medical', severity: 'high', address: '1 Long St', lat: -33.9, lon: 18.4, at: '2026-01-01T00:00:00.000Z' });
    expect(n.title).toBe('Medical alert (High)');
    expect(n.options).toMatchObject({ body: '1 Long St', tag: '1-0', data: { id: '1-0' }, requireInteraction: true });
    const low = notificationOf({ event: 'alert.escalated', id: '2-0', type: 'other', severity: 'low', lat: -33.9, lon: 18.4 });
    expect(low.title).toBe('Still open: Other alert (Low)');
    expect(low.options).toMatchObject({ body: '-33.90000, 18.40000', requireInteraction: false });
  });

  it('a payload it cannot read still shows a notification (a push must be shown), pointing nowhere', () => {
    for (const p of [undefined, {}, { id: 5 }]) {
      const n = notificationOf(p);
      expect(n.title).toBe('Naboom alert');
      expect(n.options.data).toEqual({});
    }
  });
});
