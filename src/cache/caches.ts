/**
 * The three named caches of docs/contract.md §4, each on the role that owns its namespace: `default` and `sessions` on
 * the app role, `realtime` on the realtime role.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RoleClients } from '../redis/connections.js';
import { DATABASES } from '../redis/databases.js';
import type { CacheName, KeySpace } from '../redis/keys.js';
import { Cache } from './cache.js';

export const CACHE_DEFAULT_TTL_S: Readonly<Record<CacheName, number>> = { default: 300, sessions: 86_400, realtime: 60 };

export type Caches = Readonly<Record<CacheName, Cache>>;

export interface CacheDeps {
  readonly clients: RoleClients;
  readonly keys: KeySpace;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Builds the named caches; their Redis clients are created on first use. */
export function createCaches(d: CacheDeps): Caches {
  const make = (name: CacheName, role: 'app' | 'realtime', db: number): Cache =>
    new Cache({
      name,
      get client() {
        return d.clients.get(role, 'command', db);
      },
      keys: d.keys,
      defaultTtlS: CACHE_DEFAULT_TTL_S[name],
      logger: d.logger,
      metrics: d.metrics,
    });
  return Object.freeze({
    default: make('default', 'app', DATABASES.cache),
    sessions: make('sessions', 'app', DATABASES.sessions),
    realtime: make('realtime', 'realtime', DATABASES.realtime),
  });
}
