import { describe, expect, it } from 'vitest';
import { ALERT_EVENTS, LEGACY_RAISED_EVENT } from './model.js';
import { decodeFeedEntry } from './query.js';

const doc = {
  type: 'panic',
  severity: 'high',
  status: 'open',
  location: { lat: 1, lon: 2 },
  reporter: { id: 'u1', username: 'kim' },
  created_at: '2024-01-01T00:00:00.000Z',
  updated_at: '2024-01-01T00:00:00.000Z',
  escalations: 0,
  history: [{ event: 'raised', at: '2024-01-01T00:00:00.000Z' }],
};
const entry = (event: string, data: object): [string, string[]] => ['1700000000000-0', ['event', event, 'severity', 'high', 'data', JSON.stringify(data)]];

describe('decodeFeedEntry', () => {
  it('reads a raised alert, taking its id from the entry id', () => {
    expect(decodeFeedEntry(entry(ALERT_EVENTS.raised, doc))).toEqual({ id: '1700000000000-0', type: 'alert', alert: { ...doc, id: '1700000000000-0' } });
  });

  it('reads entries written before the rename (alert.created) as raised alerts', () => {
    expect(LEGACY_RAISED_EVENT).toBe('alert.created');
    expect(decodeFeedEntry(entry(LEGACY_RAISED_EVENT, doc))).toEqual({ id: '1700000000000-0', type: 'alert', alert: { ...doc, id: '1700000000000-0' } });
  });

  it('reads an update with the id its document carries', () => {
    const updated = { ...doc, id: '1699999999999-0', status: 'acknowledged' };
    expect(decodeFeedEntry(entry(ALERT_EVENTS.updated, updated))).toEqual({ id: '1700000000000-0', type: 'alert.updated', alert: updated });
  });

  it('drops unknown events and malformed data', () => {
    expect(decodeFeedEntry(entry(ALERT_EVENTS.escalated, doc))).toBeUndefined();
    expect(decodeFeedEntry(entry('alert.bogus', doc))).toBeUndefined();
    expect(decodeFeedEntry(['1-0', ['event', ALERT_EVENTS.raised, 'data', '{not json']])).toBeUndefined();
    expect(decodeFeedEntry(entry(ALERT_EVENTS.updated, doc))).toBeUndefined();
  });
});
