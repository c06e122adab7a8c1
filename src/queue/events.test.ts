import { describe, expect, it } from 'vitest';
import { notificationEventSchema } from './events.js';
import { dispatchPayloadSchema } from './jobs/dispatch.js';
import { eventLogFields, logPayloadSchema } from './jobs/log.js';
import { webhookPayloadSchema } from './jobs/webhook.js';

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

describe('jobs queued before the payload was derived from the alert model', () => {
  // Verbatim what the previous producer stored in Redis (the alert service's whole document, `v` first).
  const queued = JSON.parse(
    '{"v":1,"event":"alert.escalated","alert":{"id":"1764831600000-3","type":"fire","severity":"critical","status":"open",' +
      '"location":{"lat":-33.9249,"lon":18.4241,"accuracy_m":25,"address":"1 Long St, Cape Town"},"description":"Smoke on the 3rd floor",' +
      '"reporter":{"id":"u_5f2c0a9d1e7b4c3a8f60","username":"mia"},"created_at":"2025-12-04T07:00:00.000Z","updated_at":"2025-12-04T07:05:00.000Z",' +
      '"escalations":1,"history":[{"event":"raised","at":"2025-12-04T07:00:00.000Z","by":{"id":"u_5f2c0a9d1e7b4c3a8f60","username":"mia"}},' +
      '{"event":"escalated","at":"2025-12-04T07:05:00.000Z","level":1}]},"at":"2025-12-04T07:05:00.012Z"}',
  ) as unknown;

  it('still parse as log, webhook and dispatch payloads', () => {
    expect(logPayloadSchema.safeParse({ v: 1, kind: 'event', event: queued }).success).toBe(true);
    expect(dispatchPayloadSchema.safeParse({ v: 1, items: [{ event: queued, dedupeId: 'escalated-1764831600000-3-1' }] }).success).toBe(true);
    const webhook = webhookPayloadSchema.parse({ v: 1, url: 'https://example.org/hook', deliveryId: 'webhook.0123abcd', event: queued });
    // The webhook body is the parsed event serialised: a retried old job must send the bytes it always would have.
    expect(JSON.stringify(webhook.event)).toBe(JSON.stringify(queued));
  });

  it('still parse when written with only the fields the old schema required (no history, no updated_at)', () => {
    const minimal = { v: 1, event: 'alert.raised', alert: { id: '1700000000000-0', type: 'panic', severity: 'critical', status: 'open', location: { lat: 1, lon: 2 }, reporter: { id: 'u1', username: 'kim' }, created_at: '2023-11-14T22:13:20.000Z' }, at: '2023-11-14T22:13:20.000Z' };
    expect(notificationEventSchema.safeParse(minimal).success).toBe(true);
  });
});
