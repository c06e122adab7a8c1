/**
 * Responder presence in Redis (realtime role; its ACL selector grants the GEO and sorted-set commands on
 * `naboom:presence:*` only). Three keys under one hash tag (`keys.ts` `presence`): a GEO set of positions,
 * a sorted set of when each was reported, and a hash of availability and accuracy. Every operation is one
 * script, atomic; the reading scripts delete positions older than RESPONDER_STALE_S in the same step, so a
 * stale position is never returned and never kept for long (README "Responder presence and privacy").
 */
import type { KeySpace } from '../redis/keys.js';
import { TurnBatcher } from '../redis/batch.js';
import type { RedisClient } from '../redis/connections.js';
import { defineScript } from '../redis/script.js';
import type { NearbyEntry, PresenceInput, ResponderEntry } from './model.js';

const KEYS = ['geo', 'seen', 'info'] as const;

export const UPDATE = defineScript(new URL('./lua/presence-update-3.lua', import.meta.url), {
  keys: KEYS,
  args: ['username', 'available', 'now', 'staleBefore', 'lon', 'lat', 'accuracy'],
});
export const READ = defineScript(new URL('./lua/presence-read-3.lua', import.meta.url), { keys: KEYS, args: ['staleBefore', 'username'] });
export const NEAREST = defineScript(new URL('./lua/presence-nearest-3.lua', import.meta.url), {
  keys: KEYS,
  args: ['staleBefore'],
  each: { keys: [], args: ['lon', 'lat', 'radius', 'limit', 'availableOnly'] },
});
export const REMOVE = defineScript(new URL('./lua/presence-remove-3.lua', import.meta.url), { keys: KEYS, args: ['username'] });

export const PRESENCE_SCRIPTS = [UPDATE, READ, NEAREST, REMOVE];

/** A point to search around. */
export interface Point {
  readonly lat: number;
  readonly lon: number;
}

export interface NearestQuery extends Point {
  readonly radiusKm: number;
  readonly limit: number;
  /** Only responders who are available (the dispatch policy); the API lists everyone with their flag. */
  readonly availableOnly: boolean;
}

/** Where a responder is, for the claim route: null when there is no fresh position. */
export interface Position {
  readonly lat: number;
  readonly lon: number;
  readonly last_seen: string;
}

/** Nearest-responder queries per script call at most. */
const NEAREST_BATCH = 64;

const parseInfo = (info: string): { available: boolean; accuracy_m?: number } => {
  const [flag, accuracy] = info.split('|');
  const out: { available: boolean; accuracy_m?: number } = { available: flag === '1' };
  if (accuracy !== undefined && accuracy !== '' && Number.isFinite(Number(accuracy))) out.accuracy_m = Number(accuracy);
  return out;
};

const iso = (ms: string | number): string => new Date(Number(ms)).toISOString();

/** GEO stores positions to about half a metre; six decimals (~0.1 m) say all there is. */
const coord = (v: string): number => Math.round(Number(v) * 1e6) / 1e6;

function entry(username: string, lon: string, lat: string, seen: string, info: string): ResponderEntry {
  return { username, lat: coord(lat), lon: coord(lon), ...parseInfo(info), last_seen: iso(seen) };
}

export class PresenceStore {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace['presence'];
  readonly #staleMs: number;
  readonly #nearest: TurnBatcher<NearestQuery, NearbyEntry[]>;

  constructor(redis: RedisClient, keys: KeySpace, settings: { readonly RESPONDER_STALE_S: number }) {
    this.#redis = redis;
    this.#keys = keys.presence;
    this.#staleMs = settings.RESPONDER_STALE_S * 1000;
    this.#nearest = new TurnBatcher((items) => this.#nearestBatch(items), NEAREST_BATCH);
  }

  get #k(): { geo: string; seen: string; info: string } {
    return { geo: this.#keys.geo, seen: this.#keys.seen, info: this.#keys.info };
  }

  #staleBefore(now = Date.now()): number {
    return now - this.#staleMs;
  }

  /** Stores a responder's report; returns their presence as stored (null: no fresh position). */
  async update(username: string, input: PresenceInput): Promise<ResponderEntry | null> {
    const now = Date.now();
    const loc = input.location;
    const reply = (await UPDATE.run(this.#redis, {
      keys: this.#k,
      args: {
        username,
        available: input.available ? '1' : '0',
        now,
        staleBefore: this.#staleBefore(now),
        lon: loc ? String(loc.lon) : '',
        lat: loc ? String(loc.lat) : '',
        accuracy: loc?.accuracy_m !== undefined ? String(loc.accuracy_m) : '',
      },
    })) as string[];
    if (reply.length < 4) return null;
    const [lon, lat, seen, info] = reply as [string, string, string, string];
    return entry(username, lon, lat, seen, info);
  }

  /** Every responder with a fresh position (available or not), oldest report first. */
  async list(): Promise<ResponderEntry[]> {
    return this.#entries((await READ.run(this.#redis, { keys: this.#k, args: { staleBefore: this.#staleBefore(), username: '' } })) as string[]);
  }

  /** One responder's fresh position, or null (none, or older than RESPONDER_STALE_S). */
  async positionOf(username: string): Promise<Position | null> {
    const [e] = this.#entries((await READ.run(this.#redis, { keys: this.#k, args: { staleBefore: this.#staleBefore(), username } })) as string[]);
    return e ? { lat: e.lat, lon: e.lon, last_seen: e.last_seen } : null;
  }

  /** Responders within the radius, nearest first. Queries of one event-loop turn share one script call. */
  async nearest(q: NearestQuery): Promise<NearbyEntry[]> {
    return await this.#nearest.submit(q);
  }

  /** Deletes a responder's presence (account removed, demoted to member); true when there was any. */
  async remove(username: string): Promise<boolean> {
    return Number(await REMOVE.run(this.#redis, { keys: this.#k, args: { username } })) === 1;
  }

  #entries(flat: readonly string[]): ResponderEntry[] {
    const out: ResponderEntry[] = [];
    for (let i = 0; i + 5 <= flat.length; i += 5) {
      out.push(entry(flat[i] as string, flat[i + 1] as string, flat[i + 2] as string, flat[i + 3] as string, flat[i + 4] as string));
    }
    return out;
  }

  async #nearestBatch(items: readonly NearestQuery[]): Promise<NearbyEntry[][]> {
    const reply = (await NEAREST.run(this.#redis, {
      keys: this.#k,
      args: { staleBefore: this.#staleBefore() },
      items: items.map((q) => ({
        keys: {},
        args: { lon: String(q.lon), lat: String(q.lat), radius: String(Math.round(q.radiusKm * 1000)), limit: q.limit, availableOnly: q.availableOnly ? '1' : '0' },
      })),
    })) as string[][];
    return items.map((q, n) => {
      const flat = reply[n] ?? [];
      const out: NearbyEntry[] = [];
      for (let i = 0; i + 4 <= flat.length && out.length < q.limit; i += 4) {
        out.push({
          username: flat[i] as string,
          distance_m: Math.round(Number(flat[i + 1])),
          last_seen: iso(flat[i + 2] as string),
          available: parseInfo(flat[i + 3] as string).available,
        });
      }
      return out;
    });
  }
}
