/**
 * The dashboard's dispatch rules, without DOM (unit-tested in Node): the shapes of presence, nearest
 * responders and thread messages as the API returns them (checked from `unknown`), who may claim or give up a
 * claim, how related alerts group on the board, how a thread merges live messages, and when a responder's
 * position is worth sending (at most every 15 s, sooner after a move of more than 50 m, and a heartbeat so a
 * responder standing still does not go stale).
 */
// Types only from the server's model (the bundle never contains zod).
import type { ThreadMessage as ModelThreadMessage } from '../../src/alerts/model.js';
import { compareIds, isActive, isObj, STREAM_ID, type Alert, type DeepReadonly, type Responder, type User } from './model.js';

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A responder with a fresh position (`GET /api/responders`; the map draws the available ones). */
export type ResponderPosition = Responder;

/** A responder near an alert (`GET /api/emergency/alerts/:id/responders`), nearest first. */
export interface NearbyResponder {
  readonly username: string;
  readonly distance_m: number;
  readonly last_seen: string;
  readonly available: boolean;
}

/** One message of an alert's thread (`GET …/messages`, `POST …/messages`, the `alert.message` frame). */
export type ThreadMessage = DeepReadonly<ModelThreadMessage>;

/** Thread limits, as the server checks them (characters are code points). */
export const MESSAGE_MAX = 1000;

export function parseResponder(v: unknown): ResponderPosition | undefined {
  if (!isObj(v) || !isStr(v['username']) || !isNum(v['lat']) || !isNum(v['lon']) || !isStr(v['last_seen']) || typeof v['available'] !== 'boolean') return undefined;
  return {
    username: v['username'],
    lat: v['lat'],
    lon: v['lon'],
    ...(isNum(v['accuracy_m']) ? { accuracy_m: v['accuracy_m'] } : {}),
    last_seen: v['last_seen'],
    available: v['available'],
  };
}

export function parseNearby(v: unknown): NearbyResponder | undefined {
  if (!isObj(v) || !isStr(v['username']) || !isNum(v['distance_m']) || !isStr(v['last_seen']) || typeof v['available'] !== 'boolean') return undefined;
  return { username: v['username'], distance_m: v['distance_m'], last_seen: v['last_seen'], available: v['available'] };
}

export function parseMessage(v: unknown): ThreadMessage | undefined {
  if (!isObj(v) || !isStr(v['id']) || !STREAM_ID.test(v['id']) || !isStr(v['alert_id']) || !isStr(v['at']) || !isStr(v['text'])) return undefined;
  const by = v['by'];
  if (!isObj(by) || !isStr(by['id']) || !isStr(by['username'])) return undefined;
  return { id: v['id'], alert_id: v['alert_id'], at: v['at'], by: { id: by['id'], username: by['username'] }, text: v['text'] };
}

/** Merges messages into a thread: each id once, in id order (ids are feed ids, so they order the thread). */
export function mergeMessages(thread: readonly ThreadMessage[], incoming: readonly ThreadMessage[]): readonly ThreadMessage[] {
  const fresh = incoming.filter((m) => !thread.some((t) => t.id === m.id));
  if (fresh.length === 0) return thread;
  const byId = new Map<string, ThreadMessage>();
  for (const m of [...thread, ...fresh]) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
}

/** Why a message cannot be sent as typed (the server says the same), or undefined when it can. */
export function messageProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0) return 'Write a message first';
  const chars = [...trimmed].length;
  if (chars > MESSAGE_MAX) return `A message holds at most ${MESSAGE_MAX} characters (this one has ${chars})`;
  return undefined;
}

/** The claim button this user sees on this alert, if any (the server decides; a held claim is a 409). */
export function claimAction(user: User, a: Alert): 'claim' | 'unclaim' | undefined {
  if (user.role !== 'responder' && user.role !== 'admin') return undefined;
  if (!isActive(a)) return undefined;
  const holder = a.assignee;
  if (!holder) return 'claim';
  if (holder.id === user.id || user.role === 'admin') return 'unclaim';
  // Someone else holds it: the button stays, and the server's 409 says who ("rita has it").
  return 'claim';
}

/** "1.2 km", "350 m": a distance for people. */
export function formatDistance(m: number): string {
  if (m < 1000) return `${Math.round(m)} m`;
  return `${(m / 1000).toFixed(m < 10_000 ? 1 : 0)} km`;
}

/** "<name> is on the way (<distance> at claim time)". */
export function onTheWay(a: Alert): string | undefined {
  const holder = a.assignee;
  if (!holder) return undefined;
  const how = holder.distance_m === null ? 'distance unknown at claim time' : `${formatDistance(holder.distance_m)} at claim time`;
  return `${holder.username} is on the way (${how})`;
}

/** One row of the grouped list: an alert, and whether it sits under another one (and how many are under it). */
export interface ListRow {
  readonly alert: Alert;
  /** The id of the alert it is grouped under, when it is a related report shown below it. */
  readonly under?: string;
  /** Related reports shown below this one. */
  readonly nearby: number;
}

/**
 * Groups related alerts (`related`, linked both ways by the server): each group is led by its oldest active
 * alert (the oldest of all when none is active), the others follow it, indented, newest first. Groups are
 * ordered by their newest alert, so a fresh report brings its group to the top. Nothing is hidden: every
 * alert given is in the result exactly once. Links to alerts not in `alerts` (filtered out, not loaded) are
 * ignored.
 */
export function groupRelated(alerts: readonly Alert[]): ListRow[] {
  const byId = new Map(alerts.map((a) => [a.id, a]));
  const parent = new Map<string, string>();
  const find = (id: string): string => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    parent.set(id, root);
    return root;
  };
  for (const a of alerts) parent.set(a.id, a.id);
  for (const a of alerts) {
    for (const r of a.related ?? []) {
      if (!byId.has(r)) continue;
      const x = find(a.id);
      const y = find(r);
      if (x !== y) parent.set(x, y);
    }
  }
  const groups = new Map<string, Alert[]>();
  for (const a of alerts) {
    const root = find(a.id);
    groups.set(root, [...(groups.get(root) ?? []), a]);
  }
  const newest = (g: readonly Alert[]): string => g.reduce((max, a) => (compareIds(a.id, max) > 0 ? a.id : max), '0-0');
  const ordered = [...groups.values()].sort((g, h) => compareIds(newest(h), newest(g)));
  const rows: ListRow[] = [];
  for (const g of ordered) {
    const oldestFirst = [...g].sort((x, y) => compareIds(x.id, y.id));
    const lead = oldestFirst.find(isActive) ?? oldestFirst[0];
    if (!lead) continue;
    rows.push({ alert: lead, nearby: g.length - 1 });
    for (const a of [...g].sort((x, y) => compareIds(y.id, x.id))) if (a !== lead) rows.push({ alert: a, under: lead.id, nearby: 0 });
  }
  return rows;
}

/** Metres between two points (haversine; plenty for "did the responder move 50 m"). */
export function metresBetween(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface Position {
  readonly lat: number;
  readonly lon: number;
  readonly accuracy_m?: number;
}

/** At most one report per this interval, unless the responder moved more than MOVE_M. */
export const SEND_EVERY_MS = 15_000;
export const MOVE_M = 50;
/** A responder standing still is reported again after this long (the server forgets positions after RESPONDER_STALE_S, 300 s by default). */
export const HEARTBEAT_MS = 60_000;

/**
 * Decides when the browser's positions go to the server. `offer` is called with every position the
 * Geolocation API reports (true: send it now); `due` is called on a timer and returns a position to send
 * (one held back by the 15 s limit, or the last one again as a heartbeat); `sent` records a report that
 * reached the server.
 */
export class PositionThrottle {
  #latest: Position | undefined;
  #sent: { pos: Position; at: number } | undefined;
  #inFlight = false;

  offer(pos: Position, now: number): boolean {
    this.#latest = pos;
    if (this.#inFlight) return false;
    const last = this.#sent;
    return !last || now - last.at >= SEND_EVERY_MS || metresBetween(last.pos, pos) > MOVE_M;
  }

  due(now: number): Position | undefined {
    const pos = this.#latest;
    const last = this.#sent;
    if (!pos || this.#inFlight) return undefined;
    if (!last) return pos;
    if (now - last.at < SEND_EVERY_MS) return undefined;
    return pos !== last.pos || now - last.at >= HEARTBEAT_MS ? pos : undefined;
  }

  /** A report is on its way: no second one until it is answered. */
  begin(): void {
    this.#inFlight = true;
  }

  /** The report of `pos` was answered (`ok`: stored; otherwise it is tried again by `due`). */
  end(pos: Position, now: number, ok: boolean): void {
    this.#inFlight = false;
    if (ok) this.#sent = { pos, at: now };
  }

  reset(): void {
    this.#latest = undefined;
    this.#sent = undefined;
    this.#inFlight = false;
  }
}

/** Live thread messages for whoever shows a thread: the page publishes what its feed receives. */
export class MessageHub {
  readonly #subs = new Map<string, Set<(m: ThreadMessage) => void>>();

  publish(m: ThreadMessage): void {
    for (const fn of this.#subs.get(m.alert_id) ?? []) fn(m);
  }

  /** Calls `fn` with each message of this alert's thread from now on; returns the unsubscribe. */
  subscribe(alertId: string, fn: (m: ThreadMessage) => void): () => void {
    const set = this.#subs.get(alertId) ?? new Set();
    set.add(fn);
    this.#subs.set(alertId, set);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.#subs.delete(alertId);
    };
  }
}
