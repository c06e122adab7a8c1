/**
 * The Web Push payloads, one schema each: the browser's `PushSubscription` JSON as `POST
 * /api/push/subscriptions` accepts it, and the message every push carries. The message is derived from the
 * alert model and holds only what the dashboard shows any responder: never the reporter, never the description.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { alertDoc, alertNotification, coordinatesLocation, hasCoordinates, type AlertNotification } from '../alerts/model.js';

/** Longest endpoint accepted; real push services use 150–500 characters. */
export const MAX_ENDPOINT_LENGTH = 2048;

/**
 * An https URL, or plain http on a loopback host only (a local push service for development and tests). The
 * host part is a name, IPv4 or `[::1]`; no user info, no spaces.
 */
const ENDPOINT = String.raw`^(https://[A-Za-z0-9.-]+|http://(localhost|127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|\[::1\]))(:[0-9]{1,5})?/[\x21-\x7e]*$`;

/** base64url of a 65-byte uncompressed P-256 point (first byte 0x04 → `B`; the last character carries 2 spare zero bits). */
const P256DH = /^B[A-Za-z0-9_-]{85}[AEIMQUYcgkosw048]$/;
/** base64url of 16 bytes (22 characters; the last carries 4 spare zero bits). */
const AUTH = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/**
 * A browser's `PushSubscription.toJSON()`. Strict: any other field is a 400. `expirationTime` is accepted
 * because browsers send it (usually `null`); Naboom relies on the push service's 404/410 instead.
 */
export const pushSubscriptionInput = z.strictObject({
  endpoint: z.string().max(MAX_ENDPOINT_LENGTH).regex(new RegExp(ENDPOINT), 'an https URL (plain http only on a loopback host)'),
  expirationTime: z.number().int().min(0).nullable().optional(),
  keys: z.strictObject({
    p256dh: z.string().length(87).regex(P256DH, 'base64url of a 65-byte uncompressed P-256 public key'),
    auth: z.string().length(22).regex(AUTH, 'base64url of 16 bytes'),
  }),
});
export type PushSubscriptionInput = z.infer<typeof pushSubscriptionInput>;

/** `DELETE /api/push/subscriptions` body. */
export const pushUnsubscribeInput = z.strictObject({ endpoint: pushSubscriptionInput.shape.endpoint });

/** The message of one push, as the service worker receives it after decryption. */
export const pushMessage = z.object({
  event: alertNotification.shape.event,
  id: alertDoc.shape.id,
  type: alertDoc.shape.type,
  severity: alertDoc.shape.severity,
  address: coordinatesLocation.shape.address,
  /** Absent (with lon) for an address-only alert. */
  lat: coordinatesLocation.shape.lat.optional(),
  lon: coordinatesLocation.shape.lon.optional(),
  at: alertNotification.shape.at,
});
export type PushMessage = z.infer<typeof pushMessage>;

/** The message for a notification event: a fixed projection, so nothing else that rode along is ever pushed. */
export function pushMessageOf(n: Pick<AlertNotification, 'event' | 'at'> & { readonly alert: Pick<AlertNotification['alert'], 'id' | 'type' | 'severity' | 'location'> }): PushMessage {
  const a = n.alert;
  return {
    event: n.event,
    id: a.id,
    type: a.type,
    severity: a.severity,
    ...(a.location.address !== undefined ? { address: a.location.address } : {}),
    ...(hasCoordinates(a.location) ? { lat: a.location.lat, lon: a.location.lon } : {}),
    at: n.at,
  };
}

/**
 * Whether the endpoint's host is one of the push services in `allowed` (PUSH_SERVICE_HOSTS): the worker POSTs
 * to every endpoint a responder registers, so without this list a responder's account could make it send
 * requests to any host the worker reaches. The port does not matter; `*.example.com` matches any subdomain of
 * example.com, not example.com itself and not `badexample.com`.
 */
export function pushHostAllowed(endpoint: string, allowed: readonly string[]): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return false;
  }
  return allowed.some((entry) => (entry.startsWith('*.') ? host.endsWith(entry.slice(1)) && host.length > entry.length - 1 : host === entry));
}

/** A stable, key-safe id for an endpoint (the field of the user's subscription hash). */
export const endpointId = (endpoint: string): string => createHash('sha256').update(endpoint).digest('base64url').slice(0, 32);

/**
 * RFC 8030 `Topic` for an alert: at most 32 base64url characters, so a later push about the same alert
 * replaces one the push service still holds. A stream id (`1712345678901-0`) already is one.
 */
export const topicOf = (alertId: string): string =>
  /^[A-Za-z0-9_-]{1,32}$/.test(alertId) ? alertId : createHash('sha256').update(alertId).digest('base64url').slice(0, 32);

/** `Urgency` (RFC 8030 §5.3): high and critical alerts wake a sleeping phone, the others need not. */
export const urgencyOf = (severity: PushMessage['severity']): 'high' | 'normal' => (severity === 'high' || severity === 'critical' ? 'high' : 'normal');
