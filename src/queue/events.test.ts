import { describe, expect, it } from 'vitest';
import { notificationEventSchema } from './events.js';
import { eventLogFields } from './jobs/log.js';

const event = {
  v: 1,
  event: 'alert.raised',
  alert: {
    id: '1712345678901-0',
    type: 'medical',
    severity: 'high',
    status: 'open',
    location: { lat: -26.2, lon: 28.04 },
    reporter: { id: 'u-1', username: 'sipho', password_hash: 'scrypt$…' },
    created_at: '2026-11-27T07:00:00Z',
    acknowledged_by: null,
  },
  at: '2026-11-27T07:00:00.120Z',
};

describe('notification event schema', () => {
  it('accepts an alert event, keeps extra alert fields and drops everything but id and username of the reporter', () => {
    const parsed = notificationEventSchema.parse(event);
    expect(parsed.alert.reporter).toEqual({ id: 'u-1', username: 'sipho' });
    expect(parsed.alert['acknowledged_by']).toBeNull();
  });

  it('refuses other versions, unknown events, severities or statuses, and impossible coordinates', () => {
    for (const bad of [
      { ...event, v: 2 },
      { ...event, event: 'alert.deleted' },
      { ...event, alert: { ...event.alert, severity: 'extreme' } },
      { ...event, alert: { ...event.alert, status: 'closed' } },
      { ...event, alert: { ...event.alert, location: { lat: 91, lon: 0 } } },
      { ...event, at: 'yesterday' },
    ]) {
      expect(notificationEventSchema.safeParse(bad).success, JSON.stringify(bad).slice(0, 80)).toBe(false);
    }
  });

  it('the log line carries a fixed projection: no description text, no extra fields', () => {
    const fields = eventLogFields(notificationEventSchema.parse({ ...event, alert: { ...event.alert, description: 'call 082…', secret_note: 'x' } }));
    const text = JSON.stringify(fields);
    expect(text).not.toContain('082');
    expect(text).not.toContain('secret_note');
    expect(text).not.toContain('scrypt');
    expect(fields).toMatchObject({ event: 'alert.raised', alert: { id: '1712345678901-0', has_description: true } });
  });
});
