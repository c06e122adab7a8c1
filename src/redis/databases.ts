/**
 * Standalone/Sentinel database numbers per use, as in the original layout (SPEC §3). They only keep
 * `redis-cli` views tidy: Redis ACLs cannot restrict databases, so key patterns are the isolation boundary.
 * On Cluster everything is DB 0.
 */
export const DATABASES = {
  cache: 0,
  channels: 1,
  queue: 2,
  sessions: 3,
  realtime: 4,
  monitoring: 7,
} as const;

export type DatabaseUse = keyof typeof DATABASES;
