/**
 * The alert as the dashboard sees it, the checks that turn server JSON (`unknown`) into it, and the pure
 * rules of the board: merging, ordering, filtering and which actions a user may take. No DOM here, so the
 * rules are unit-tested in Node.
 */
import type {
  ALERT_STATUSES,
  Actor as ModelActor,
  AlertDoc,
  AlertStatus,
  Assignee as ModelAssignee,
  HistoryEvent as ModelHistoryEvent,
  SEVERITIES as MODEL_SEVERITIES,
  Severity as ModelSeverity,
} from '../../src/alerts/model.js';

// Types only from the server's model (erased at build time: the bundle never contains zod). The few value
// lists the board needs are repeated here, and `satisfies` the model's own tuples, so a change on the server
// that is not made here fails the typecheck.

/** Least severe first, as the server orders them. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const satisfies typeof MODEL_SEVERITIES;
export type Severity = ModelSeverity;
/** For people: the most severe first. */
export const MOST_SEVERE_FIRST: readonly Severity[] = [...SEVERITIES].reverse();

export const STATUSES = ['open', 'acknowledged', 'resolved', 'cancelled'] as const satisfies typeof ALERT_STATUSES;
export type Status = AlertStatus;

export type Role = 'member' | 'responder' | 'admin';

export interface User {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
}

export type DeepReadonly<T> = T extends readonly (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export type Actor = DeepReadonly<ModelActor>;
export type HistoryEvent = DeepReadonly<ModelHistoryEvent>;
/**
 * The alert document as the API returns it. `type` stays any string: a type added on the server later must
 * still show on an older board, not vanish from it.
 */
export type Alert = DeepReadonly<Omit<AlertDoc, 'type'> & { type: string }>;
/** Who holds the alert (claim), when, and how far away they were then (null: their position was unknown). */
export type Assignee = DeepReadonly<ModelAssignee>;

/** An alert's location: coordinates (with an optional address) or, without a GPS fix, an address alone. */
export type Location = Alert['location'];
export type CoordinatesLocation = Extract<Location, { readonly lat: number }>;

/** True when the location has a position; false for an address-only alert (nothing to draw on a map). */
export const hasCoordinates = (l: Location): l is CoordinatesLocation => 'lat' in l;

/** An alert that has coordinates (the map draws only these). */
export type PlacedAlert = Alert & { readonly location: CoordinatesLocation };
export const isPlaced = (a: Alert): a is PlacedAlert => hasCoordinates(a.location);

/** What the list and details say of an alert without coordinates. */
export const ADDRESS_ONLY_LABEL = 'Address only — no GPS position';

/** What the map draws under the alerts: the operator's tiles (`GET /api/map`) or the bundled outline. */
export type Basemap = { readonly kind: 'tiles'; readonly url: string; readonly attribution: string; readonly maxZoom: number } | { readonly kind: 'outline' };

/**
 * A responder on the map: the shape of the upcoming `GET /api/responders` (positions are personal data: only
 * responders and admins receive them). Only `available` ones are drawn.
 */
export interface Responder {
  readonly username: string;
  readonly lat: number;
  readonly lon: number;
  readonly accuracy_m?: number;
  /** ISO 8601. */
  readonly last_seen: string;
  readonly available: boolean;
}

export const SEVERITY_LABEL: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };
export const STATUS_LABEL: Record<Status, string> = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved', cancelled: 'Cancelled' };

/** A JSON object (not an array, not null): what every parser of a server answer checks first. */
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const isSeverity = (v: unknown): v is Severity => (SEVERITIES as readonly unknown[]).includes(v);
export const isStatus = (v: unknown): v is Status => (STATUSES as readonly unknown[]).includes(v);
export const isRole = (v: unknown): v is Role => v === 'member' || v === 'responder' || v === 'admin';

function parseActor(v: unknown): Actor | undefined {
  return isObj(v) && isStr(v['id']) && isStr(v['username']) ? { id: v['id'], username: v['username'] } : undefined;
}

/** A user from `/api/auth/me` or a login answer, or undefined. */
export function parseUser(v: unknown): User | undefined {
  if (!isObj(v) || !isStr(v['id']) || !isStr(v['username']) || !isRole(v['role'])) return undefined;
  return { id: v['id'], username: v['username'], role: v['role'] };
}

/**
 * A location: coordinates (lat and lon together, optional accuracy and address) or an address alone (the
 * resident had no GPS fix). Anything else — half a position, neither — is not a location.
 */
function parseLocation(v: unknown): Location | undefined {
  if (!isObj(v)) return undefined;
  const address = isStr(v['address']) && v['address'] !== '' ? v['address'] : undefined;
  if (isNum(v['lat']) && isNum(v['lon'])) {
    return {
      lat: v['lat'],
      lon: v['lon'],
      ...(isNum(v['accuracy_m']) ? { accuracy_m: v['accuracy_m'] } : {}),
      ...(address !== undefined ? { address } : {}),
    };
  }
  if (v['lat'] !== undefined || v['lon'] !== undefined) return undefined;
  return address !== undefined ? { address } : undefined;
}

/** An alert document from the API or the live feed, or undefined when it does not have the expected shape. */
export function parseAlert(v: unknown): Alert | undefined {
  if (!isObj(v)) return undefined;
  const { id, type, severity, status, location, reporter, created_at, updated_at, history } = v;
  if (!isStr(id) || !isStr(type) || !isSeverity(severity) || !isStatus(status) || !isStr(created_at) || !isStr(updated_at)) return undefined;
  const loc = parseLocation(location);
  if (!loc) return undefined;
  const by = parseActor(reporter);
  if (!by || !Array.isArray(history)) return undefined;
  const events: HistoryEvent[] = [];
  for (const h of history as unknown[]) {
    if (!isObj(h) || !isStr(h['event']) || !isStr(h['at'])) continue;
    const actor = parseActor(h['by']);
    events.push({
      event: h['event'],
      at: h['at'],
      ...(actor ? { by: actor } : {}),
      ...(isStr(h['note']) ? { note: h['note'] } : {}),
      ...(isNum(h['level']) ? { level: h['level'] } : {}),
    });
  }
  return {
    id,
    type,
    severity,
    status,
    location: loc,
    ...(isStr(v['description']) ? { description: v['description'] } : {}),
    reporter: by,
    created_at,
    updated_at,
    escalations: isNum(v['escalations']) ? v['escalations'] : 0,
    history: events,
    ...parseDispatch(v),
  };
}

/** The dispatch fields of an alert document (claim, related reports), when well-formed. */
function parseDispatch(v: Record<string, unknown>): Pick<Alert, 'assignee' | 'related'> {
  const a = v['assignee'];
  const holder = parseActor(a);
  const assignee =
    holder && isObj(a) && isStr(a['at']) && (a['distance_m'] === null || isNum(a['distance_m'])) ? ({ ...holder, at: a['at'], distance_m: a['distance_m'] } satisfies Assignee) : undefined;
  const related = Array.isArray(v['related']) ? (v['related'] as unknown[]).filter((r): r is string => isStr(r) && STREAM_ID.test(r)) : undefined;
  return { ...(assignee ? { assignee } : {}), ...(related && related.length > 0 ? { related } : {}) };
}

/** Stream ids (`<ms>-<seq>`) compare as (milliseconds, sequence); both parts can exceed 2^53, hence BigInt. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const s = BigInt(as) - BigInt(bs);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** True when `next` is at least as recent as `current` (the same alert seen twice, e.g. list then replay). */
export function isNewer(next: Alert, current: Alert): boolean {
  if (next.updated_at !== current.updated_at) return next.updated_at > current.updated_at;
  return next.history.length >= current.history.length;
}

/**
 * Merges alert documents into the board (keyed by alert id, so a replayed or doubly delivered alert is
 * never shown twice, and an older copy never overwrites a newer one). Returns the same map when nothing changed.
 */
export function mergeAlerts(board: ReadonlyMap<string, Alert>, incoming: readonly Alert[]): ReadonlyMap<string, Alert> {
  let out: Map<string, Alert> | undefined;
  for (const a of incoming) {
    const cur = (out ?? board).get(a.id);
    if (cur && (cur === a || !isNewer(a, cur))) continue;
    out ??= new Map(board);
    out.set(a.id, a);
  }
  return out ?? board;
}

/** Newest first (alert ids are time-ordered stream ids). */
export function newestFirst(board: ReadonlyMap<string, Alert>): Alert[] {
  return [...board.values()].sort((x, y) => compareIds(y.id, x.id));
}

export type StatusFilter = 'all' | 'active' | Status;

export interface Filters {
  readonly severities: ReadonlySet<Severity>;
  readonly status: StatusFilter;
}

export const isActive = (a: Alert): boolean => a.status === 'open' || a.status === 'acknowledged';

export function matches(a: Alert, f: Filters): boolean {
  if (!f.severities.has(a.severity)) return false;
  if (f.status === 'all') return true;
  if (f.status === 'active') return isActive(a);
  return a.status === f.status;
}

export type Action = 'ack' | 'resolve' | 'cancel';
export const ACTION_LABEL: Record<Action, string> = { ack: 'Acknowledge', resolve: 'Resolve', cancel: 'Cancel' };

/** The lifecycle actions this user may take on this alert now (mirrors the server's rules). */
export function allowedActions(user: User, a: Alert): Action[] {
  if (user.role === 'responder' || user.role === 'admin') {
    if (a.status === 'open') return ['ack', 'cancel'];
    if (a.status === 'acknowledged') return ['resolve', 'cancel'];
    return [];
  }
  return a.status === 'open' && a.reporter.id === user.id ? ['cancel'] : [];
}

/** "4 s", "3 min", "2 h 5 min", "3 d": how long ago, compact enough for a table cell. */
export function formatAge(fromIso: string, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - Date.parse(fromIso)) / 1000));
  if (!Number.isFinite(s)) return '–';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/** Where the alert is, for people: its address, else its coordinates. */
export function place(a: Alert): string {
  const l = a.location;
  return hasCoordinates(l) ? (l.address ?? formatCoords(l.lat, l.lon)) : l.address;
}

/** The first non-empty line of a description, trimmed (the list shows it under the address), or undefined. */
export function firstLine(description: string | undefined): string | undefined {
  if (description === undefined) return undefined;
  for (const line of description.split(/\r\n|\r|\n|\u2028|\u2029/)) {
    const t = line.trim();
    if (t) return t;
  }
  return undefined;
}

export function formatCoords(lat: number, lon: number): string {
  return `${Math.abs(lat).toFixed(5)}° ${lat < 0 ? 'S' : 'N'}, ${Math.abs(lon).toFixed(5)}° ${lon < 0 ? 'W' : 'E'}`;
}

export const typeLabel = (t: string): string => t.charAt(0).toUpperCase() + t.slice(1);
