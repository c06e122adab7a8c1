import { describe, expect, it } from 'vitest';
import { alertDoc, compareIds } from './model.js';

describe('stream ids', () => {
  it('compare by milliseconds, then sequence', () => {
    expect(compareIds('1700000000000-0', '1700000000000-0')).toBe(0);
    expect(compareIds('1700000000000-1', '1700000000000-0')).toBe(1);
    expect(compareIds('1700000000000-9', '1700000000001-0')).toBe(-1);
    expect(compareIds('0-0', '1-0')).toBe(-1);
    expect(compareIds('1700000000000-10', '1700000000000-9')).toBe(1);
  });
});

describe('alert document', () => {
  const doc = {
    id: '1-0',
    type: 'panic',
    severity: 'high',
    status: 'open',
    location: { lat: 1, lon: 2, address: 'Main St' },
    description: 'fire 🔥',
    reporter: { id: 'u1', username: 'mia' },
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    escalations: 0,
    history: [{ event: 'raised', at: '2026-01-01T00:00:00.000Z', note: 'ok' }],
  };

  it('refuses text that is not well-formed UTF-16 anywhere in what is read back', () => {
    expect(alertDoc.safeParse(doc).success).toBe(true);
    const bad = [
      { ...doc, description: 'x\ud800' },
      { ...doc, location: { ...doc.location, address: '\udfff' } },
      { ...doc, reporter: { id: 'u1', username: 'mia\ud83d' } },
      { ...doc, history: [{ event: 'raised', at: doc.created_at, note: '\ud800' }] },
    ];
    for (const d of bad) expect(alertDoc.safeParse(d).success, JSON.stringify(d)).toBe(false);
  });
});
