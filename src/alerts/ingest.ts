/**
 * Raising alerts: every alert raised during one turn of the event loop is stored by one call of the ingest
 * script (atomic, in arrival order) and confirmed by one WAIT. Idempotency-Key retries find the alert the
 * first request stored; a key reused with another body is refused.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/load.js';
import type { KeySpace } from '../redis/keys.js';
import { NaboomError } from '../errors/catalogue.js';
import { TurnBatcher } from '../redis/batch.js';
import type { RedisClient } from '../redis/connections.js';
import { defineScript } from '../redis/script.js';
import { ALERT_EVENTS, DEFAULT_SEVERITY, MAX_RELATED, hasCoordinates, type Actor, type AlertDoc, type RaiseInput } from './model.js';
import { ALERT_CACHE_TTL_S, type AlertQuery } from './query.js';
import type { Replication } from './replication.js';

export const IDEMPOTENCY_TTL_S = 86_400;

/** Recent alerts the ingest script looks at per new alert for related ones (the newest within the window). */
export const RELATED_SCAN = 200;
/**
 * Older alerts one new alert is linked to at most (the newest nearby): each link is one more feed entry, so
 * a crowd of alerts at one spot costs at most this many extra entries per alert.
 */
export const RELATED_LINKS = 3;
/** Entries the recent-alerts zset keeps (older ones are trimmed by rank; the window bounds what is used). */
export const RECENT_KEEP = 1000;

export const INGEST = defineScript(new URL('./lua/alert-ingest-N.lua', import.meta.url), {
  keys: ['feed', 'schedule', 'recent'],
  args: [
    'maxlen', 'stateTtl', 'cacheTtl', 'idempotencyTtl', 'statePrefix', 'cachePrefix', 'broadcastChannel', 'raisedEvent',
    'relatedRadius', 'relatedWindow', 'relatedScan', 'relatedLinks', 'maxRelated', 'recentKeep', 'nowIso',
  ],
  each: {
    keys: ['stream', 'reporterIndex', 'idempotency?'],
    args: ['doc', 'severity', 'escalateAt', 'created', 'alertType', 'reporter', 'lat', 'lon', 'fingerprint', 'fields[]'],
  },
});

type IngestItem = Parameters<typeof INGEST.run>[1]['items'][number];

export interface RaiseResult {
  readonly alert: AlertDoc;
  /** False when an earlier request with the same Idempotency-Key stored it. */
  readonly created: boolean;
  readonly stream: string;
}

/** Hash of an Idempotency-Key header: the raw value never reaches a key name. */
export const idempotencyHash = (header: string): string => createHash('sha256').update(header, 'utf8').digest('hex').slice(0, 40);

/**
 * Fingerprint of a raise request as it would be stored (effective severity, every location field), kept in
 * the idempotency record so a key reused for a different alert is told apart from a retry of the same one.
 */
export function raiseFingerprint(input: RaiseInput): string {
  const l = input.location;
  const at = hasCoordinates(l) ? [l.lat, l.lon, l.accuracy_m ?? null] : [null, null, null];
  const normalised = [input.type, input.severity ?? DEFAULT_SEVERITY, ...at, l.address ?? null, input.description ?? null];
  return createHash('sha256').update(JSON.stringify(normalised), 'utf8').digest('hex').slice(0, 32);
}

/** What the ingest script did with one alert. */
type IngestOutcome = 'stored' | 'replayed' | 'mismatch';
const INGEST_OUTCOMES: Record<number, IngestOutcome> = { 0: 'replayed', 1: 'stored', 2: 'mismatch' };

/** Alerts per ingest call at most (bounds the script's arguments and its time in Redis). */
const INGEST_BATCH = 64;

export class AlertIngest {
  readonly #redis: RedisClient;
  readonly #config: Config;
  readonly #keys: KeySpace;
  readonly #query: AlertQuery;
  readonly #replication: Replication;
  readonly #batcher: TurnBatcher<IngestItem, [string, IngestOutcome, string[]]>;

  constructor(redis: RedisClient, config: Config, keys: KeySpace, query: AlertQuery, replication: Replication) {
    this.#redis = redis;
    this.#config = config;
    this.#keys = keys;
    this.#query = query;
    this.#replication = replication;
    this.#batcher = new TurnBatcher((items) => this.#ingestBatch(items), INGEST_BATCH);
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
    const fields: string[] = ['type', input.type, 'severity', severity, 'reporter_id', reporter.id, 'reporter', reporter.username];
    // An address-only alert has no lat/lon fields in its stream entry (and is never linked as related).
    if (hasCoordinates(loc)) {
      fields.push('lat', String(loc.lat), 'lon', String(loc.lon));
      if (loc.accuracy_m !== undefined) fields.push('accuracy_m', String(loc.accuracy_m));
    }
    if (loc.address !== undefined) fields.push('address', loc.address);
    if (input.description !== undefined) fields.push('description', input.description);
    fields.push('created_at', nowIso);
    const withKey = idempotencyKey !== undefined;
    const [id, outcome, related] = await this.#batcher.submit({
      keys: { stream: a.stream(severity), reporterIndex: a.byReporter(reporter.id), idempotency: withKey ? a.idempotency(reporter.id, idempotencyHash(idempotencyKey)) : undefined },
      args: {
        doc: JSON.stringify(doc),
        severity,
        escalateAt: now.getTime() + this.#config.settings.ESCALATE_AFTER_S * 1000,
        created: now.getTime(),
        alertType: input.type,
        reporter: reporter.id,
        lat: hasCoordinates(loc) ? loc.lat : '',
        lon: hasCoordinates(loc) ? loc.lon : '',
        fingerprint: withKey ? raiseFingerprint(input) : '',
        fields,
      },
    });
    if (outcome === 'mismatch') {
      throw new NaboomError('NABOOM_IDEMPOTENCY_MISMATCH', undefined, { details: { alert_id: id } });
    }
    if (outcome === 'stored') {
      const stored = { ...(doc as Omit<AlertDoc, 'id'>), id, ...(related.length > 0 ? { related } : {}) };
      return { alert: stored, created: true, stream: a.stream(severity) };
    }
    const existing = await this.#query.get(id);
    if (!existing) throw new NaboomError('NABOOM_CONFLICT', 'The Idempotency-Key refers to an alert that no longer exists');
    return { alert: existing, created: false, stream: a.stream(existing.severity) };
  }

  /** One ingest call for a batch of alerts, then one replication check. */
  async #ingestBatch(items: readonly IngestItem[]): Promise<[string, IngestOutcome, string[]][]> {
    const a = this.#keys.alerts;
    const s = this.#config.settings;
    const args = {
      maxlen: s.ALERT_STREAM_MAXLEN,
      stateTtl: s.ALERT_STATE_TTL_DAYS * 86_400,
      cacheTtl: ALERT_CACHE_TTL_S,
      idempotencyTtl: IDEMPOTENCY_TTL_S,
      statePrefix: a.statePrefix,
      cachePrefix: a.cachePrefix,
      broadcastChannel: this.#keys.broadcastChannel,
      raisedEvent: ALERT_EVENTS.raised,
      relatedRadius: s.RELATED_RADIUS_M,
      relatedWindow: s.RELATED_WINDOW_S * 1000,
      relatedScan: RELATED_SCAN,
      relatedLinks: RELATED_LINKS,
      maxRelated: MAX_RELATED,
      recentKeep: RECENT_KEEP,
      nowIso: new Date().toISOString(),
    };
    const flat = (await INGEST.run(this.#redis, { keys: { feed: a.feed, schedule: a.escalations, recent: a.recent }, args, items })) as (string | number)[];
    await this.#replication.confirm();
    return items.map((_, i) => {
      const outcome = INGEST_OUTCOMES[Number(flat[3 * i + 1])];
      if (!outcome) throw new NaboomError('NABOOM_INTERNAL', 'The ingest script answered an unknown outcome');
      const related = String(flat[3 * i + 2] ?? '');
      return [String(flat[3 * i]), outcome, related === '' ? [] : related.split(',')];
    });
  }
}
