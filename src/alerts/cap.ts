/**
 * OASIS Common Alerting Protocol 1.2 rendering of an alert
 * (http://docs.oasis-open.org/emergency/cap/v1.2/CAP-v1.2-os.html).
 */
import { hasCoordinates, type AlertDoc, type AlertType } from './model.js';
import type { Severity } from '../redis/keys.js';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';

const SEVERITY: Record<Severity, 'Extreme' | 'Severe' | 'Moderate' | 'Minor'> = {
  critical: 'Extreme',
  high: 'Severe',
  medium: 'Moderate',
  low: 'Minor',
};

const CATEGORY: Record<AlertType, string> = { panic: 'Safety', medical: 'Health', fire: 'Fire', crime: 'Security', other: 'Other' };
const EVENT: Record<AlertType, string> = { panic: 'Panic alert', medical: 'Medical emergency', fire: 'Fire', crime: 'Crime in progress', other: 'Emergency' };

export const capSeverity = (s: Severity): string => SEVERITY[s];

/** Control characters XML 1.0 cannot carry at all (only tab, LF and CR are allowed). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c).replace(XML_FORBIDDEN, '');

/** CAP dateTime: second precision with an explicit offset (CAP forbids "Z"). */
export function capDateTime(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19)}+00:00`;
}

export interface CapOptions {
  /** `sender` element: identifies the originator (e.g. naboom@example.org). */
  readonly sender: string;
}

/** Renders the alert as a CAP 1.2 `<alert>` document. */
export function toCap(a: AlertDoc, o: CapOptions): string {
  const cancelled = a.status === 'cancelled';
  const msgType = cancelled ? 'Cancel' : a.history.length > 1 ? 'Update' : 'Alert';
  const responseType = a.status === 'resolved' || cancelled ? 'AllClear' : 'Monitor';
  const l = a.location;
  // An address-only alert has no position: its <area> is the address alone (areaDesc is the one required
  // element of a CAP 1.2 area; circle is optional), never a circle at made-up coordinates.
  const circle = hasCoordinates(l) ? [`      <circle>${l.lat},${l.lon} ${((l.accuracy_m ?? 0) / 1000).toFixed(3)}</circle>`] : [];
  const areaDesc = hasCoordinates(l) ? (l.address ?? `${l.lat.toFixed(6)}, ${l.lon.toFixed(6)}`) : l.address;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<alert xmlns="${CAP_NAMESPACE}">`,
    `  <identifier>naboom-${escapeXml(a.id)}</identifier>`,
    `  <sender>${escapeXml(o.sender)}</sender>`,
    `  <sent>${capDateTime(a.updated_at)}</sent>`,
    '  <status>Actual</status>',
    `  <msgType>${msgType}</msgType>`,
    // Restricted (with <restriction>) rather than Private, which would require an <addresses> list.
    '  <scope>Restricted</scope>',
    '  <restriction>Naboom community responders</restriction>',
    ...(msgType === 'Alert' ? [] : [`  <references>${escapeXml(o.sender)},naboom-${escapeXml(a.id)},${capDateTime(a.created_at)}</references>`]),
    '  <info>',
    '    <language>en-ZA</language>',
    `    <category>${CATEGORY[a.type]}</category>`,
    `    <event>${EVENT[a.type]}</event>`,
    `    <responseType>${responseType}</responseType>`,
    `    <urgency>${cancelled || a.status === 'resolved' ? 'Past' : 'Immediate'}</urgency>`,
    `    <severity>${SEVERITY[a.severity]}</severity>`,
    '    <certainty>Observed</certainty>',
    `    <senderName>${escapeXml(a.reporter.username)}</senderName>`,
    `    <headline>${escapeXml(`${EVENT[a.type]} (${a.severity}) — ${a.status}`)}</headline>`,
    ...(a.description ? [`    <description>${escapeXml(a.description)}</description>`] : []),
    `    <parameter><valueName>naboomStatus</valueName><value>${a.status}</value></parameter>`,
    '    <area>',
    `      <areaDesc>${escapeXml(areaDesc)}</areaDesc>`,
    ...circle,
    '    </area>',
    '  </info>',
    '</alert>',
    '',
  ];
  return lines.join('\n');
}
