/**
 * Keys the queue module writes next to BullMQ's own. BullMQ builds its keys from the prefix
 * (`<prefix>:<queue>:<suffix>`); the worker heartbeats live under the same prefix, so they fall inside the app
 * role's `~<queuePrefix>:*` pattern on both layouts (`naboom:queue` and `{naboom:queue}` on Cluster, where the
 * hash tag also keeps them in one slot for MGET and MULTI).
 */
import { keySegment } from '../redis/keys.js';

export interface QueueKeys {
  /** Sorted set of worker ids, scored by when their heartbeat expires (ms): lets verify find workers without SCAN. */
  readonly workers: string;
  /** One worker's heartbeat (JSON, short TTL). */
  worker(id: string): string;
}

/** The queue module's own keys under `prefix` (pass `config.keys.queuePrefix`). */
export function queueKeys(prefix: string): QueueKeys {
  return Object.freeze({
    workers: `${prefix}:workers`,
    worker: (id: string) => `${prefix}:workers:${keySegment(id, 'worker id')}`,
  });
}
