/**
 * The alert store on the realtime role: raising (one atomic script), reading, lifecycle transitions,
 * listing, feed replay and escalation claims. No HTTP, no authorisation: `service.ts` decides who may do
 * what; this file decides what is stored and how.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import type { RedisClient } from '../redis/connections.js';
import { TurnBatcher } from '../redis/batch.js';
import { fieldText, replyFields } from '../redis/reply.js';
import { isCluster, nodeForKey } from '../redis/slot.js';
import type { KeySpace, Severity } from '../redis/keys.js';
import { SEVERITIES } from '../redis/keys.js';
import { alertDoc, compareIds, DEFAULT_SEVERITY, TRANSITIONS, type Actor, type AlertDoc, type AlertStatus, type FeedEvent, type RaiseInput, type TransitionName } from './model.js';
import { ESCALATE, INGEST, TRANSITION } from './scripts.js';
import { isMaxStreamId, isMinStreamId } from './stream-id.js';

export const ALERT_CACHE_TTL_S = 3600;
export const IDEMPOTENCY_TTL_S = 86_400;

export interface RaiseResult {
  readonly alert: AlertDoc;
  /** False when an earlier request with the same Idempotency-Key stored it. */
  readonly created: boolean;
  readonly stream: string;
}

export type TransitionOutcome =
  | { readonly kind: 'ok'; readonly alert: AlertDoc; readonly feedId: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'conflict'; readonly status: AlertStatus }
  /** The stored document cannot be decoded (nothing was changed). */
  | { readonly kind: 'corrupt' };

export interface EscalationSweep {
  /** Every alert the sweep escalated (each needs its `alert.escalated` job). */
  readonly escalated: AlertDoc[];
  /** Due alerts whose stored document could not be decoded: taken out of the schedule, not escalated. */
  readonly corrupt: string[];
  /** Escalated by the script but unreadable here (reported; their live feed entry exists). */
  readonly unreadable: number;
}

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

/** Decodes one feed entry; `undefined` for anything malformed (never trusted blindly). */
export function decodeFeedEntry(entry: StreamEntry): FeedEvent | undefined {
  const [id, flat] = entry;
  const f = replyFields(flat);
  const event = fieldText(f, 'event');
  const data = fieldText(f, 'data');
  if (!data || (event !== 'alert.created' && event !== 'alert.updated')) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (event === 'alert.created' && raw && typeof raw === 'object') (raw as Record<string, unknown>)['id'] = id;
  const parsed = alertDoc.safeParse(raw);
  if (!parsed.success) return undefined;
  return { id, type: event === 'alert.created' ? 'alert' : 'alert.updated', alert: parsed.data };
}

function parseDoc(json: unknown): AlertDoc | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const r = alertDoc.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Hash of an Idempotency-Key header: the raw value never reaches a key name. */
export const idempotencyHash = (header: string): string => createHash('sha256').update(header, 'utf8').digest('hex').slice(0, 40);

/**
 * Fingerprint of a raise request as it would be stored (effective severity, every location field), kept in
 * the idempotency record so a key reused for a different alert is told apart from a retry of the same one.
 */
export function raiseFingerprint(input: RaiseInput): string {
  const l = input.location;
  const normalised = [input.type, input.severity ?? DEFAULT_SEVERITY, l.lat, l.lon, l.accuracy_m ?? null, l.address ?? null, input.description ?? null];
  return createHash('sha256').update(JSON.stringify(normalised), 'utf8').digest('hex').slice(0, 32);
}

/** One alert waiting for its turn's INGEST call. */
interface PendingAlert {
  readonly stream: string;
  readonly byReporter: string;
  readonly idempotency: { readonly key: string; readonly fingerprint: string } | undefined;
  /** doc JSON, severity, escalate-at ms, created ms, type, reporter id */
  readonly args: readonly (string | number)[];
  readonly fields: readonly string[];
}

/** What INGEST did with one alert (see scripts.ts). */
type IngestOutcome = 'stored' | 'replayed' | 'mismatch';
const INGEST_OUTCOMES: Record<number, IngestOutcome> = { 0: 'replayed', 1: 'stored', 2: 'mismatch' };

/** Alerts per INGEST call at most (bounds the script's arguments and its time in Redis). */
const INGEST_BATCH = 64;

export class AlertStore {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace;
  readonly #config: Config;
  readonly #ingest: TurnBatcher<PendingAlert, [string, IngestOutcome]>;

  constructor(redis: RedisClient, config: Config, keys: KeySpace) {
    this.#redis = redis;
    this.#keys = keys;
    this.#config = config;
    this.#ingest = new TurnBatcher((items) => this.#ingestBatch(items), INGEST_BATCH);
  }

  /** The feed stream key (the live tail reads it). */
  get feedKey(): string {
    return this.#keys.alerts.feed;
  }

  get #maxlen(): number {
    return this.#config.settings.ALERT_STREAM_MAXLEN;
  }

  get #stateTtl(): number {
    return this.#config.settings.ALERT_STATE_TTL_DAYS * 86_400;
  }

  /**
   * Stores a new alert (or finds the one an idempotent retry refers to). Alerts raised during the same turn
   * of the event loop are stored by one script call (atomic, in arrival order) and confirmed by one WAIT.
   */
  async raise(input: RaiseInput, reporter: Actor, idempotencyKey?: string): Promise<RaiseResult> {
    const severity = input.severity ?? DEFAULT_SEVERITY;
    const now = new Date();
    const nowIso = now.toISOString();
    const doc = {
      type: input.type,
      severity,
      status: 'open',
      location: input.location,
      ...(input.description !== undefined ? { description: input.description } : {}),
      reporter,
      created_at: nowIso,
      updated_at: nowIso,
      escalations: 0,
      history: [{ event: 'raised', at: nowIso, by: reporter }],
    };
    const a = this.#keys.alerts;
    const loc = input.location;
    const fields: string[] = ['type', input.type, 'severity', severity, 'reporter_id', reporter.id, 'reporter', reporter.username, 'lat', String(loc.lat), 'lon', String(loc.lon)];
    if (loc.accuracy_m !== undefined) fields.push('accuracy_m', String(loc.accuracy_m));
    if (loc.address !== undefined) fields.push('address', loc.address);
    if (input.description !== undefined) fields.push('description', input.description);
    fields.push('created_at', nowIso);
    const [id, outcome] = await this.#ingest.submit({
      stream: a.stream(severity),
      byReporter: a.byReporter(reporter.id),
      idempotency: idempotencyKey !== undefined ? { key: a.idempotency(reporter.id, idempotencyHash(idempotencyKey)), fingerprint: raiseFingerprint(input) } : undefined,
      args: [JSON.stringify(doc), severity, now.getTime() + this.#config.settings.ESCALATE_AFTER_S * 1000, now.getTime(), input.type, reporter.id],
      fields,
    });
    if (outcome === 'mismatch') {
      throw new NaboomError('NABOOM_IDEMPOTENCY_MISMATCH', undefined, { details: { alert_id: id } });
    }
    if (outcome === 'stored') {
      return { alert: { ...(doc as Omit<AlertDoc, 'id'>), id }, created: true, stream: a.stream(severity) };
    }
    const existing = await this.get(id);
    if (!existing) throw new NaboomError('NABOOM_CONFLICT', 'The Idempotency-Key refers to an alert that no longer exists');
    return { alert: existing, created: false, stream: a.stream(existing.severity) };
  }

  /** One INGEST call for a batch of alerts (see scripts.ts for the layout), then one replication check. */
  async #ingestBatch(items: readonly PendingAlert[]): Promise<[string, IngestOutcome][]> {
    const a = this.#keys.alerts;
    const keys = [a.feed, a.escalations];
    const args: (string | number)[] = [this.#maxlen, this.#stateTtl, ALERT_CACHE_TTL_S, IDEMPOTENCY_TTL_S, a.statePrefix, a.cachePrefix, this.#keys.broadcastChannel, items.length];
    for (const item of items) {
      keys.push(item.stream, item.byReporter);
      if (item.idempotency !== undefined) keys.push(item.idempotency.key);
      args.push(...item.args, item.idempotency?.fingerprint ?? '', item.fields.length, ...item.fields);
    }
    const flat = (await INGEST.run(this.#redis, keys, args)) as (string | number)[];
    await this.#confirmReplication();
    return items.map((_, i) => {
      const outcome = INGEST_OUTCOMES[Number(flat[2 * i + 1])];
      if (!outcome) throw new NaboomError('NABOOM_INTERNAL', 'The ingest script answered an unknown outcome');
      return [String(flat[2 * i]), outcome];
    });
  }

  /** One alert: the cached document, else the state hash. */
  async get(id: string): Promise<AlertDoc | undefined> {
    const a = this.#keys.alerts;
    const cached = parseDoc(await this.#redis.get(a.cache(id)));
    if (cached) return cached;
    return parseDoc(await this.#redis.hget(a.state(id), 'doc'));
  }

  /** Applies a lifecycle transition atomically and records it in the history and the feed. */
  async transition(
    id: string,
    name: TransitionName,
    by: Actor,
    opts: { reporterOnly?: string; note?: string; from?: readonly AlertStatus[] } = {},
  ): Promise<TransitionOutcome> {
    const t = TRANSITIONS[name];
    const from = opts.from ?? t.from;
    const now = new Date().toISOString();
    const event = { event: t.event, at: now, by, ...(opts.note ? { note: opts.note } : {}) };
    const a = this.#keys.alerts;
    const reply = (await TRANSITION.run(this.#redis, [a.feed, a.escalations], [
      a.statePrefix,
      id,
      t.to,
      from.join(','),
      JSON.stringify(event),
      now,
      this.#maxlen,
      a.cachePrefix,
      ALERT_CACHE_TTL_S,
      opts.reporterOnly ?? '',
    ])) as string[];
    const [kind, a1, a2] = reply;
    if (kind === 'missing') return { kind };
    if (kind === 'forbidden') return { kind };
    if (kind === 'conflict') return { kind, status: a1 as AlertStatus };
    if (kind === 'corrupt') return { kind };
    const alert = parseDoc(a1);
    if (!alert || !a2) throw new NaboomError('NABOOM_INTERNAL', 'Stored alert failed validation after a transition');
    await this.#confirmReplication();
    return { kind: 'ok', alert, feedId: a2 };
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
    const a = this.#keys.alerts;
    const replies = await Promise.all(
      sevs.map((s) =>
        ascending
          ? this.#redis.xrange(a.stream(s), cursor ? `(${cursor}` : '-', '+', 'COUNT', count)
          : this.#redis.xrevrange(a.stream(s), cursor ? `(${cursor}` : '+', '-', 'COUNT', count),
      ),
    );
    const ids = replies.flatMap((r) => r.map(([id]) => id));
    ids.sort((x, y) => (ascending ? compareIds(x, y) : compareIds(y, x)));
    return ids.slice(0, count);
  }

  async #reporterIds(reporterId: string, ascending: boolean, cursor: string | undefined, count: number): Promise<string[]> {
    const key = this.#keys.alerts.byReporter(reporterId);
    const all = await this.#redis.zrange(key, '0', '-1');
    all.sort(compareIds);
    const filtered = cursor ? all.filter((id) => (ascending ? compareIds(id, cursor) > 0 : compareIds(id, cursor) < 0)) : all;
    return (ascending ? filtered : filtered.reverse()).slice(0, count);
  }

  async #docs(ids: readonly string[]): Promise<(AlertDoc | undefined)[]> {
    const a = this.#keys.alerts;
    const raws = await Promise.all(ids.map((id) => this.#redis.hget(a.state(id), 'doc')));
    return raws.map(parseDoc);
  }

  /** The id of the newest feed entry ('0-0' when empty): where a live tail starts. */
  async feedHead(): Promise<string> {
    const last = await this.#redis.xrevrange(this.#keys.alerts.feed, '+', '-', 'COUNT', 1);
    return last[0]?.[0] ?? '0-0';
  }

  /** Oldest retained feed id, to tell a client its replay was truncated by retention. */
  async feedTail(): Promise<string | undefined> {
    const first = await this.#redis.xrange(this.#keys.alerts.feed, '-', '+', 'COUNT', 1);
    return first[0]?.[0];
  }

  /** Feed events after `since` (exclusive), up to `count`, oldest first. */
  async feedAfter(since: string, count: number, client: RedisClient = this.#redis): Promise<FeedEvent[]> {
    if (isMaxStreamId(since)) return [];
    const entries = (await client.xrange(this.#keys.alerts.feed, `(${since}`, '+', 'COUNT', count)) as StreamEntry[];
    return entries.map(decodeFeedEntry).filter((e): e is FeedEvent => e !== undefined);
  }

  /** Claims due escalations (atomic across processes); one undecodable alert never stops the sweep. */
  async escalateDue(nowMs: number, batch = 100): Promise<EscalationSweep> {
    const a = this.#keys.alerts;
    const reply = (await ESCALATE.run(this.#redis, [a.escalations, a.feed], [
      nowMs,
      this.#config.settings.ESCALATE_AFTER_S * 1000,
      batch,
      a.statePrefix,
      a.cachePrefix,
      ALERT_CACHE_TTL_S,
      this.#maxlen,
      new Date(nowMs).toISOString(),
    ])) as [string[], string[]];
    const [docs, corrupt] = reply;
    const escalated = docs.map(parseDoc).filter((d): d is AlertDoc => d !== undefined);
    return { escalated, corrupt: corrupt.map(String), unreadable: docs.length - escalated.length };
  }

  /** In HA topologies, the write must reach ALERT_MIN_REPLICAS replicas before we acknowledge it. */
  async #confirmReplication(): Promise<void> {
    const n = this.#config.alertMinReplicas;
    if (n <= 0) return;
    const timeout = this.#config.settings.ALERT_REPLICATION_TIMEOUT_MS;
    // WAIT counts the replicas that acknowledged this connection's writes, so on Cluster it must go to the
    // connection of the node that owns the alert slot (all alert keys share the {panic} tag).
    const conn = isCluster(this.#redis) ? nodeForKey(this.#redis, this.#keys.alerts.feed) : this.#redis;
    if (!conn) throw new NaboomError('NABOOM_NOT_REPLICATED', 'The node owning the alert slot is unknown (cluster slots refreshing)');
    const acked = Number(await conn.call('WAIT', String(n), String(timeout)));
    if (acked < n) {
      throw new NaboomError('NABOOM_NOT_REPLICATED', undefined, { details: { replicas: acked, required: n } });
    }
  }
}
