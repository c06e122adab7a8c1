import { describe, expect, it } from 'vitest';
import type { AlertDoc } from '../alerts/model.js';
import { generateEnv } from '../config/generate.js';
import { loadConfig } from '../config/load.js';
import type { NotificationEvent } from '../queue/events.js';
import { derivedId, notificationJobs } from '../queue/notification-jobs.js';
import { endpointId, pushHostAllowed, pushMessage, pushMessageOf, pushSubscriptionInput, topicOf, urgencyOf } from './model.js';

const alert: AlertDoc = {
  id: '1712345678901-0',
  type: 'fire',
  severity: 'critical',
  status: 'open',
  location: { lat: -26.2, lon: 28.04, accuracy_m: 12, address: '3 Main Rd' },
  description: 'private detail',
  reporter: { id: 'u_1', username: 'mia' },
  created_at: '2026-12-04T07:00:00.000Z',
  updated_at: '2026-12-04T07:00:00.000Z',
  escalations: 0,
  history: [{ event: 'raised', at: '2026-12-04T07:00:00.000Z' }],
};
const event = (kind: NotificationEvent['event']): NotificationEvent => ({ v: 1, event: kind, alert, at: '2026-12-04T07:00:01.000Z' });

describe('push model', () => {
  it('the message is a fixed projection: no reporter, no description, no status', () => {
    const m = pushMessageOf(event('alert.raised'));
    expect(m).toEqual({ event: 'alert.raised', id: alert.id, type: 'fire', severity: 'critical', address: '3 Main Rd', lat: -26.2, lon: 28.04, at: '2026-12-04T07:00:01.000Z' });
    expect(pushMessage.parse(m)).toEqual(m);
    expect(pushMessageOf({ ...event('alert.raised'), alert: { ...alert, location: { lat: -26.2, lon: 28.04 } } })).not.toHaveProperty('address');
  });

  it('an address-only alert is pushed with its address and no coordinates (never 0,0)', () => {
    const m = pushMessageOf({ ...event('alert.raised'), alert: { ...alert, location: { address: '3 Main Rd' } } });
    expect(m).toEqual({ event: 'alert.raised', id: alert.id, type: 'fire', severity: 'critical', address: '3 Main Rd', at: '2026-12-04T07:00:01.000Z' });
    expect(m).not.toHaveProperty('lat');
    expect(m).not.toHaveProperty('lon');
    expect(pushMessage.parse(m)).toEqual(m);
  });

  it('Topic: the alert id when it is ≤ 32 base64url characters, else a 32-character hash', () => {
    expect(topicOf('1712345678901-0')).toBe('1712345678901-0');
    const long = `${'9'.repeat(20)}-${'9'.repeat(20)}`;
    expect(topicOf(long)).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(topicOf(long)).toBe(topicOf(long));
    expect(endpointId('https://a.example/x')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('Urgency high for high and critical, normal otherwise', () => {
    expect(['low', 'medium', 'high', 'critical'].map((s) => urgencyOf(s as AlertDoc['severity']))).toEqual(['normal', 'normal', 'high', 'high']);
  });

  it('accepts a browser subscription with expirationTime null, refuses the rest', () => {
    const keys = { p256dh: `B${'A'.repeat(85)}Q`, auth: `${'A'.repeat(21)}w` };
    expect(pushSubscriptionInput.safeParse({ endpoint: 'https://fcm.googleapis.com/fcm/send/abc', expirationTime: null, keys }).success).toBe(true);
    expect(pushSubscriptionInput.safeParse({ endpoint: 'http://127.0.0.1:8090/notify/x', keys }).success).toBe(true);
    expect(pushSubscriptionInput.safeParse({ endpoint: 'http://192.168.1.2/x', keys }).success).toBe(false);
    expect(pushSubscriptionInput.safeParse({ endpoint: 'https://a.example/x', keys: { ...keys, p256dh: `B${'A'.repeat(85)}B` } }).success).toBe(false);
  });
});

describe('PUSH_SERVICE_HOSTS', () => {
  const defaults = loadConfig({ env: {}, envFile: false }).settings.PUSH_SERVICE_HOSTS;

  it('by default lets through the browsers\' push services and nothing else', () => {
    for (const endpoint of [
      'https://fcm.googleapis.com/fcm/send/dKx:APA91b',
      'https://updates.push.services.mozilla.com/wpush/v2/gAAAAABn',
      'https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB',
      'https://web.push.apple.com/QGu0B9e8dWd',
      'https://FCM.googleapis.com:443/fcm/send/x',
    ]) {
      expect(pushHostAllowed(endpoint, defaults), endpoint).toBe(true);
    }
    for (const endpoint of [
      'https://googleapis.com/fcm/send/x',
      'https://fcm.googleapis.com.attacker.example/x',
      'https://evilfcm.googleapis.com/x',
      'https://push.services.mozilla.com/x',
      'https://notpush.apple.com/x',
      'https://169.254.169.254/latest/meta-data/',
      'http://127.0.0.1:6379/',
      'http://localhost:8080/x',
      'not a url',
    ]) {
      expect(pushHostAllowed(endpoint, defaults), endpoint).toBe(false);
    }
  });

  it('matches exact hosts, IPv6 in brackets, and `*.` subdomains only (not the apex)', () => {
    expect(pushHostAllowed('http://[::1]:9/x', ['[::1]'])).toBe(true);
    expect(pushHostAllowed('http://127.0.0.1:9/x', ['[::1]'])).toBe(false);
    expect(pushHostAllowed('https://a.b.example.org/x', ['*.example.org'])).toBe(true);
    expect(pushHostAllowed('https://example.org/x', ['*.example.org'])).toBe(false);
    expect(pushHostAllowed('https://badexample.org/x', ['*.example.org'])).toBe(false);
  });

  it('the setting is validated at start: entries are host names, *.names or addresses', () => {
    expect(loadConfig({ env: { PUSH_SERVICE_HOSTS: ' Push.Example.org , *.Example.net,[::1] ' }, envFile: false }).settings.PUSH_SERVICE_HOSTS).toEqual(['push.example.org', '*.example.net', '[::1]']);
    for (const bad of ['https://push.example.org', 'push.example.org/x', '*', '*.', 'a..b', 'push.example.org:443', 'ex ample.org', ',']) {
      let message = '';
      try {
        loadConfig({ env: { PUSH_SERVICE_HOSTS: bad }, envFile: false });
      } catch (err) {
        message = err instanceof Error ? err.message : String(err);
      }
      expect(message, bad).toMatch(/PUSH_SERVICE_HOSTS/);
    }
  });
});

describe('push-fanout jobs', () => {
  const on = loadConfig({ env: generateEnv(6380).vars, envFile: false });
  const { VAPID_PUBLIC_KEY: _p, VAPID_PRIVATE_KEY: _k, ...rest } = generateEnv(6380).vars;
  const off = loadConfig({ env: rest, envFile: false });

  it('one per alert.raised and alert.escalated, with an id derived from the event; none for alert.updated or without VAPID keys', () => {
    const raised = notificationJobs(on, event('alert.raised'), `raised-${alert.id}`).filter((j) => j.name === 'push-fanout');
    expect(raised.map((j) => j.opts.jobId)).toEqual([derivedId('push-fanout', `raised-${alert.id}`)]);
    expect(raised[0]?.data).toEqual({ v: 1, dedupeId: `raised-${alert.id}`, message: pushMessageOf(event('alert.raised')) });
    const escalated = notificationJobs(on, event('alert.escalated'), `escalated-${alert.id}-1`).filter((j) => j.name === 'push-fanout');
    expect(escalated.map((j) => j.opts.jobId)).toEqual([derivedId('push-fanout', `escalated-${alert.id}-1`)]);
    expect(notificationJobs(on, event('alert.updated'), `updated-${alert.id}`).some((j) => j.name === 'push-fanout')).toBe(false);
    expect(notificationJobs(off, event('alert.raised'), `raised-${alert.id}`).some((j) => j.name === 'push-fanout')).toBe(false);
  });
});
