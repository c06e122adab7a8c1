/**
 * The notification event: what the alert service hands to `NotificationQueue.enqueue()` and what every
 * notifier receives. It crosses a process boundary (Redis), so the worker parses it from `unknown` again.
 * Versioned: a breaking change adds `v: 2` next to `v: 1` instead of changing this shape.
 */
import { z } from 'zod';
import { SEVERITIES } from '../redis/keys.js';

export const NOTIFICATION_EVENT_TYPES = ['alert.raised', 'alert.escalated', 'alert.updated'] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved', 'cancelled'] as const;

const isoTime = z.iso.datetime({ offset: true });

export const alertLocationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  accuracy_m: z.number().min(0).max(10_000_000).optional(),
  address: z.string().max(500).optional(),
});

/** Only id and username: anything else on the account (hashes, roles, tokens) never reaches a notifier. */
export const reporterSchema = z.object({
  id: z.string().min(1).max(200),
  username: z.string().min(1).max(200),
});

/** The alert as the alert service describes it; extra fields (history, acknowledged_by, …) pass through. */
export const notifiedAlertSchema = z.looseObject({
  id: z.string().min(1).max(64),
  type: z.string().min(1).max(64),
  severity: z.enum(SEVERITIES),
  status: z.enum(ALERT_STATUSES),
  location: alertLocationSchema,
  description: z.string().max(5000).optional(),
  reporter: reporterSchema,
  created_at: isoTime,
});

export const notificationEventSchema = z.object({
  v: z.literal(1),
  event: z.enum(NOTIFICATION_EVENT_TYPES),
  alert: notifiedAlertSchema,
  /** When the event happened (ISO 8601 with offset). */
  at: isoTime,
});

/** An alert notification, as enqueued and as delivered. */
export type NotificationEvent = z.output<typeof notificationEventSchema>;
/** What callers may pass (same as the output; kept separate so a future default cannot break callers). */
export type NotificationEventInput = z.input<typeof notificationEventSchema>;
