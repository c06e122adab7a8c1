/**
 * What a push shows: a notification built from the push message (src/push/model.ts `pushMessage`: event,
 * id, type, severity, address?, lat, lon, at). Only what the dashboard shows every responder; the tag is the
 * alert id, so an escalation replaces the notification of the same alert instead of stacking.
 */

/** The fields of src/push/model.ts `pushMessage` (that module needs Node's crypto, so it is not imported here;
 * test/browser/push-sw.test.ts holds this list to the schema). */
export const PUSH_FIELDS = ['event', 'id', 'type', 'severity', 'address', 'lat', 'lon', 'at'] as const;

/** The payload as received: checked field by field, a newer server may send more or other fields. */
export type PushPayload = { readonly [K in (typeof PUSH_FIELDS)[number]]?: unknown };

const TYPE_LABEL: Record<string, string> = { panic: 'Panic', medical: 'Medical', fire: 'Fire', crime: 'Crime', other: 'Other' };
const SEVERITY_LABEL: Record<string, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };

/** The options given to `showNotification` (written out: this module is also unit-tested in Node, without the DOM's types). */
export interface ShownOptions {
  readonly body: string;
  readonly tag: string;
  readonly data: { readonly id?: string };
  readonly icon: string;
  readonly badge?: string;
  readonly renotify?: boolean;
  readonly requireInteraction?: boolean;
  readonly timestamp?: number;
}

export interface BuiltNotification {
  readonly title: string;
  readonly options: ShownOptions;
}

export function notificationOf(p: PushPayload | undefined): BuiltNotification {
  const id = typeof p?.id === 'string' ? p.id : undefined;
  if (!p || !id) {
    return { title: 'Naboom alert', options: { body: 'Open the dashboard to see it.', tag: 'naboom', icon: '/icons/icon-192.png', data: {} } };
  }
  const type = typeof p.type === 'string' ? (TYPE_LABEL[p.type] ?? p.type) : 'Alert';
  const severity = typeof p.severity === 'string' ? (SEVERITY_LABEL[p.severity] ?? p.severity) : '';
  const escalated = p.event === 'alert.escalated';
  const where =
    typeof p.address === 'string' && p.address !== ''
      ? p.address
      : typeof p.lat === 'number' && typeof p.lon === 'number'
        ? `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`
        : 'location unknown';
  const urgent = p.severity === 'critical' || p.severity === 'high';
  return {
    title: `${escalated ? 'Still open: ' : ''}${type} alert${severity ? ` (${severity})` : ''}`,
    options: {
      body: where,
      tag: id,
      renotify: true,
      requireInteraction: urgent,
      icon: '/icons/icon-192.png',
      badge: '/icons/icon-192.png',
      data: { id },
      ...(typeof p.at === 'string' ? { timestamp: Date.parse(p.at) || Date.now() } : {}),
    },
  };
}
