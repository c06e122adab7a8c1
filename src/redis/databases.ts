/**
 * Standalone/Sentinel database numbers per use, as in the original layout (docs/contract.md §3). They only
 * keep `redis-cli` views tidy: Redis ACLs cannot restrict databases, so key patterns are the isolation
 * boundary. On Cluster everything is DB 0.
 */
export const DATABASES = {
  /** The `default` cache (`naboom:cache:*`). */
  cache: 0,
  /** Accounts and API tokens (`naboom:auth:*`): the app role's first database, shared with the cache. */
  accounts: 0,
  /** Rate-limit counters (`naboom:ratelimit:*`), in the same database. */
  rateLimits: 0,
  channels: 1,
  queue: 2,
  sessions: 3,
  realtime: 4,
  monitoring: 7,
} as const;
