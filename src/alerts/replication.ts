/**
 * Replication before acknowledgement: in HA topologies a write must reach ALERT_MIN_REPLICAS replicas
 * (WAIT) before the API answers, so a failover never loses an acknowledged alert or transition.
 */
import type { Config } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';
import type { RedisClient } from '../redis/connections.js';
import { isCluster, nodeForKey } from '../redis/slot.js';

export class Replication {
  readonly #redis: RedisClient;
  readonly #config: Config;
  /** Any key of the `{panic}` slot: on Cluster, WAIT goes to the node that owns it. */
  readonly #slotKey: string;

  constructor(redis: RedisClient, config: Config, slotKey: string) {
    this.#redis = redis;
    this.#config = config;
    this.#slotKey = slotKey;
  }

  /** Resolves once the configured replicas have this connection's writes; NABOOM_NOT_REPLICATED otherwise. */
  async confirm(): Promise<void> {
    const n = this.#config.alertMinReplicas;
    if (n <= 0) return;
    const timeout = this.#config.settings.ALERT_REPLICATION_TIMEOUT_MS;
    // WAIT counts the replicas that acknowledged this connection's writes, so on Cluster it must go to the
    // connection of the node that owns the alert slot (all alert keys share the {panic} tag).
    const conn = isCluster(this.#redis) ? nodeForKey(this.#redis, this.#slotKey) : this.#redis;
    if (!conn) throw new NaboomError('NABOOM_NOT_REPLICATED', 'The node owning the alert slot is unknown (cluster slots refreshing)');
    const acked = Number(await conn.call('WAIT', String(n), String(timeout)));
    if (acked < n) {
      throw new NaboomError('NABOOM_NOT_REPLICATED', undefined, { details: { replicas: acked, required: n } });
    }
  }
}
