/**
 * The notification event: what the alert service hands to `NotificationQueue.enqueue()` and what every
 * notifier receives. It crosses a process boundary (Redis), so the worker parses it from `unknown` again.
 * Versioned: a breaking change adds `v: 2` next to `v: 1` instead of changing this shape.
 *
 * Every field, limit and list of names comes from the alert model (`alertNotification`); only the version
 * and what older producers may have left out are decided here.
 */
import { z } from 'zod';
import { alertDoc, alertNotification } from '../alerts/model.js';

/**
 * The alert as a notification carries it. A job written by an earlier producer may lack updated_at,
 * escalations and history, and extra fields pass through for receivers; every field that is present is
 * checked against the model. The reporter keeps only id and username: anything
 * else on the account (hashes, roles, tokens) never reaches a notifier.
 */
export const notifiedAlertSchema = alertDoc.partial({ updated_at: true, escalations: true, history: true }).loose();

// `v` first, as producers have always written it: a webhook body is this object serialised.
export const notificationEventSchema = z.object({ v: z.literal(1), ...alertNotification.shape, alert: notifiedAlertSchema });

/** An alert notification, as enqueued and as delivered. */
export type NotificationEvent = z.output<typeof notificationEventSchema>;
/** What callers may pass (same as the output; kept separate so a future default cannot break callers). */
export type NotificationEventInput = z.input<typeof notificationEventSchema>;
