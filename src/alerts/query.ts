/**
 * Reading alerts on the realtime role: one alert (cache, then state), pages of the severity streams or a
 * reporter's index, and the feed stream for live tails and replays. Nothing here writes.
 */
import type { RedisClient } from '../redis/connections.js';
import type { KeySpace, Severity } from '../redis/keys.js';
import { SEVERITIES } from '../redis/keys.js';
import { fieldText, replyFields } from '../redis/reply.js';
import { ALERT_EVENTS, alertDoc, compareIds, LEGACY_RAISED_EVENT, MESSAGE_EVENT, threadMessage, type AlertDoc, type AlertStatus, type FeedEvent } from './model.js';
import { isMaxStreamId, isMinStreamId } from './stream-id.js';

/** How long a cached document lives, s (written with every change by ingest and lifecycle, read here first). */
export const ALERT_CACHE_TTL_S = 3600;

export interface ListQuery {
  /** Ascending, after this id (exclusive). Without it: newest first. */
  readonly since?: string;
  /** Newest first, before this id (exclusive). */
  readonly before?: string;
  readonly severity?: Severity;
  readonly status?: AlertStatus;
  readonly limit: number;
  /** Only this reporter's alerts (members). */
  readonly reporterId?: string;
}

export interface ListPage {
  readonly alerts: AlertDoc[];
  /** Cursor for the next page (pass as `since` when ascending, `before` when descending), or null at the end. */
  readonly next: string | null;
}

type StreamEntry = [string, string[]];

/**
 * Decodes one feed entry; `undefined` for anything malformed (never trusted blindly). A raised alert's entry
 * carries no id in its document (the entry id is the alert id); entries written before the event names were
 * unified say `alert.created` and are read the same way.
 */
export function decodeFeedEntry(entry: StreamEntry): FeedEvent | undefined {
  const [id, flat] = entry;
  const f = replyFields(flat);
  const event = fieldText(f, 'event');
  const data = fieldText(f, 'data');
  if (event === MESSAGE_EVENT) return decodeMessageEntry(id, f, data);
  const raised = event === ALERT_EVENTS.raised || event === LEGACY_RAISED_EVENT;
  if (!data || (!raised && event !== ALERT_EVENTS.updated)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (raised && raw && typeof raw === 'object') (raw as Record<string, unknown>)['id'] = id;
  const parsed = alertDoc.safeParse(raw);
  if (!parsed.success) return undefined;
  return { id, type: raised ? 'alert' : 'alert.updated', alert: parsed.data };
}

/** A thread message's feed entry: the message (its id is the entry id) and whom it goes to. */
function decodeMessageEntry(id: string, f: ReadonlyMap<string, unknown>, data: string): FeedEvent | undefined {
  const severity = fieldText(f, 'severity');
  const reporterId = fieldText(f, 'reporter');
  if (!(SEVERITIES as readonly string[]).includes(severity) || !reporterId) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object') return undefined;
  const parsed = threadMessage.safeParse({ ...raw, id });
  if (!parsed.success) return undefined;
  return { id, type: MESSAGE_EVENT, alertId: parsed.data.alert_id, severity: severity as Severity, reporterId, message: parsed.data };
}

/** A stored document, checked; `undefined` when missing or invalid. */
export function parseDoc(json: unknown): AlertDoc | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const r = alertDoc.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export class AlertQuery {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace['alerts'];

  constructor(redis: RedisClient, keys: KeySpace['alerts']) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** One alert: the cached document, else the state hash. */
  async get(id: string): Promise<AlertDoc | undefined> {
    const cached = parseDoc(await this.#redis.get(this.#keys.cache(id)));
    if (cached) return cached;
    return parseDoc(await this.#redis.hget(this.#keys.state(id), 'doc'));
  }

  /** Lists alerts from the severity streams (ids are comparable across them: they all come from the feed). */
  async list(q: ListQuery): Promise<ListPage> {
    const ascending = q.since !== undefined;
    // Nothing lies after the largest id or before the smallest, and Redis refuses `(` in front of either.
    if ((q.since !== undefined && isMaxStreamId(q.since)) || (!ascending && q.before !== undefined && isMinStreamId(q.before))) {
      return { alerts: [], next: null };
    }
    const sevs = q.severity ? [q.severity] : [...SEVERITIES];
    const out: AlertDoc[] = [];
    let cursor = ascending ? q.since : q.before;
    const batch = Math.min(500, Math.max(q.limit * 2, 50));
    // Status and reporter filters are applied after reading; bound the scan so a rare status cannot loop forever.
    for (let round = 0; round < 20 && out.length < q.limit; round++) {
      const ids = q.reporterId ? await this.#reporterIds(q.reporterId, ascending, cursor, batch) : await this.#streamIds(sevs, ascending, cursor, batch);
      if (ids.length === 0) {
        cursor = undefined;
        break;
      }
      const docs = await this.#docs(ids);
      for (const [i, id] of ids.entries()) {
        cursor = id;
        const d = docs[i];
        if (!d) continue;
        if (q.severity && d.severity !== q.severity) continue;
        if (q.status && d.status !== q.status) continue;
        out.push(d);
        if (out.length >= q.limit) break;
      }
      if (ids.length < batch && out.length < q.limit) {
        cursor = undefined;
        break;
      }
    }
    return { alerts: out, next: out.length >= q.limit && cursor ? cursor : null };
  }

  async #streamIds(sevs: readonly Severity[], ascending: boolean, cursor: string | undefined, count: number): Promise<string[]> {
    const replies = await Promise.all(
      sevs.map((s) =>
        ascending
          ? this.#redis.xrange(this.#keys.stream(s), cursor ? `(${cursor}` : '-', '+', 'COUNT', count)
          : this.#redis.xrevrange(this.#keys.stream(s), cursor ? `(${cursor}` : '+', '-', 'COUNT', count),
      ),
    );
    const ids = replies.flatMap((r) => r.map(([id]) => id));
    ids.sort((x, y) => (ascending ? compareIds(x, y) : compareIds(y, x)));
    return ids.slice(0, count);
  }

  async #reporterIds(reporterId: string, ascending: boolean, cursor: string | undefined, count: number): Promise<string[]> {
    const all = await this.#redis.zrange(this.#keys.byReporter(reporterId), '0', '-1');
    all.sort(compareIds);
    const filtered = cursor ? all.filter((id) => (ascending ? compareIds(id, cursor) > 0 : compareIds(id, cursor) < 0)) : all;
    return (ascending ? filtered : filtered.reverse()).slice(0, count);
  }

  async #docs(ids: readonly string[]): Promise<(AlertDoc | undefined)[]> {
    const raws = await Promise.all(ids.map((id) => this.#redis.hget(this.#keys.state(id), 'doc')));
    return raws.map(parseDoc);
  }

  /** The id of the newest feed entry ('0-0' when empty): where a live tail starts. */
  async feedHead(): Promise<string> {
    const last = await this.#redis.xrevrange(this.#keys.feed, '+', '-', 'COUNT', 1);
    return last[0]?.[0] ?? '0-0';
  }

  /** Oldest retained feed id, to tell a client its replay was truncated by retention. */
  async feedTail(): Promise<string | undefined> {
    const first = await this.#redis.xrange(this.#keys.feed, '-', '+', 'COUNT', 1);
    return first[0]?.[0];
  }

  /** Feed events after `since` (exclusive), up to `count`, oldest first. */
  async feedAfter(since: string, count: number, client: RedisClient = this.#redis): Promise<FeedEvent[]> {
    if (isMaxStreamId(since)) return [];
    const entries = (await client.xrange(this.#keys.feed, `(${since}`, '+', 'COUNT', count)) as StreamEntry[];
    return entries.map(decodeFeedEntry).filter((e): e is FeedEvent => e !== undefined);
  }
}
