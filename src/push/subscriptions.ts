/**
 * Web Push subscriptions on the app role, under `naboom:push:*` (keys.ts): one hash per user (endpoint id →
 * subscription JSON) and a set of the users that hold any, so the worker's fan-out needs no SCAN. At most
 * PUSH_MAX_SUBSCRIPTIONS_PER_USER per user: a new device evicts the user's oldest subscription (a responder
 * who replaced a phone is not locked out by the one they lost). Removed with the user (auth/users.ts).
 */
import { z } from 'zod';
import type { RedisClient } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';
import { endpointId, pushSubscriptionInput, type PushSubscriptionInput } from './model.js';

/** A subscription as stored. */
export interface StoredSubscription {
  readonly id: string;
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
  readonly createdAt: string;
}

const stored = z.object({ endpoint: pushSubscriptionInput.shape.endpoint, keys: pushSubscriptionInput.shape.keys, created_at: z.string() });

export interface SaveResult {
  /** False when the endpoint was already registered for this user (its keys are refreshed). */
  readonly created: boolean;
  /** Endpoint ids evicted to stay within the per-user limit. */
  readonly evicted: readonly string[];
}

/** Reads and writes push subscriptions. Takes an app-role client on the accounts database. */
export class PushSubscriptionStore {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace;
  readonly #max: number;

  constructor(redis: RedisClient, keys: KeySpace, maxPerUser: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#max = maxPerUser;
  }

  /** Stores a subscription for the user; idempotent per endpoint. */
  async save(username: string, sub: PushSubscriptionInput): Promise<SaveResult> {
    const key = this.#keys.push.subscriptions(username);
    const id = endpointId(sub.endpoint);
    const previous = this.#parse(id, await this.#redis.hget(key, id));
    const createdAt = previous?.createdAt ?? new Date().toISOString();
    await this.#redis.hset(key, id, JSON.stringify({ endpoint: sub.endpoint, keys: { p256dh: sub.keys.p256dh, auth: sub.keys.auth }, created_at: createdAt }));
    await this.#redis.sadd(this.#keys.push.subscribers, username);
    const evicted = (await this.#redis.hlen(key)) > this.#max ? await this.#trim(username, id) : [];
    return { created: previous === undefined, evicted };
  }

  /** Removes one subscription of the user by endpoint; true when it existed. */
  async remove(username: string, endpoint: string): Promise<boolean> {
    return await this.removeById(username, endpointId(endpoint));
  }

  /**
   * Removes one subscription by id (the worker, on 404/410 from the push service). The user stays in the
   * subscribers set even when this was their last one: taking them out here could race a concurrent `save`
   * and silence their new device; an empty entry costs the fan-out one HGETALL. Removing or demoting the
   * user takes them out.
   */
  async removeById(username: string, id: string): Promise<boolean> {
    return (await this.#redis.hdel(this.#keys.push.subscriptions(username), id)) > 0;
  }

  /** The user's subscriptions, oldest first. */
  async list(username: string): Promise<StoredSubscription[]> {
    const raw = await this.#redis.hgetall(this.#keys.push.subscriptions(username));
    return Object.entries(raw)
      .map(([id, v]) => this.#parse(id, v))
      .filter((s): s is StoredSubscription => s !== undefined)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** One subscription, if it is still there. */
  async get(username: string, id: string): Promise<StoredSubscription | undefined> {
    return this.#parse(id, await this.#redis.hget(this.#keys.push.subscriptions(username), id));
  }

  /** Users holding at least one subscription. */
  async subscribers(): Promise<string[]> {
    return (await this.#redis.smembers(this.#keys.push.subscribers)).sort();
  }

  /** Drops the oldest subscriptions beyond the limit, never the one just saved. */
  async #trim(username: string, keep: string): Promise<string[]> {
    const all = await this.list(username);
    const excess = all.length - this.#max;
    if (excess <= 0) return [];
    const victims = all.filter((s) => s.id !== keep).slice(0, excess).map((s) => s.id);
    if (victims.length > 0) await this.#redis.hdel(this.#keys.push.subscriptions(username), ...victims);
    return victims;
  }

  #parse(id: string, raw: string | null | undefined): StoredSubscription | undefined {
    if (raw === null || raw === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return undefined;
    }
    const p = stored.safeParse(json);
    return p.success ? { id, endpoint: p.data.endpoint, keys: p.data.keys, createdAt: p.data.created_at } : undefined;
  }
}
