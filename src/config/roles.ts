/**
 * The Redis roles as the configuration sees them: the variables that name each role's user and password, the
 * user's default name and what the role is for (`naboom init` writes it above the role's variables). What
 * each role may do in Redis is `redis/roles.ts`, which builds its catalogue on this table.
 */

export const ROLE_NAMES = ['master', 'app', 'websocket', 'realtime', 'monitoring', 'replica', 'sentinel'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface RoleAccount {
  readonly userEnv: string;
  readonly passwordEnv: string;
  readonly defaultUser: string;
  readonly purpose: string;
}

export const ROLE_ACCOUNTS: Readonly<Record<RoleName, RoleAccount>> = {
  master: {
    userEnv: 'REDIS_MASTER_USER',
    passwordEnv: 'REDIS_MASTER_PASSWORD',
    defaultUser: 'default',
    purpose: 'provisioning only (acl apply/diff/rotate, verify); never used by serve or worker',
  },
  app: {
    userEnv: 'REDIS_APP_USER',
    passwordEnv: 'REDIS_APP_PASSWORD',
    defaultUser: 'app_user',
    purpose: 'caches (default, sessions), session store, BullMQ job queue, rate limits, user accounts',
  },
  websocket: {
    userEnv: 'REDIS_WEBSOCKET_USER',
    passwordEnv: 'REDIS_WEBSOCKET_PASSWORD',
    defaultUser: 'websocket_user',
    purpose: 'channel layer (send/receive, groups, per-process fan-out) for WebSocket connections',
  },
  realtime: {
    userEnv: 'REDIS_REALTIME_USER',
    passwordEnv: 'REDIS_REALTIME_PASSWORD',
    defaultUser: 'realtime_user',
    purpose: 'durable alert streams, alert state, idempotency, escalation schedule, realtime cache, live feed tail',
  },
  monitoring: {
    userEnv: 'REDIS_MONITORING_USER',
    passwordEnv: 'REDIS_MONITORING_PASSWORD',
    defaultUser: 'monitoring_user',
    purpose: 'health checks and metrics; reads server statistics, never writes and never reads keys',
  },
  replica: {
    userEnv: 'REDIS_REPLICA_USER',
    passwordEnv: 'REDIS_REPLICA_PASSWORD',
    defaultUser: 'replica_user',
    purpose: 'replicas log in to their master (masteruser/masterauth)',
  },
  sentinel: {
    userEnv: 'REDIS_SENTINEL_USER',
    passwordEnv: 'REDIS_SENTINEL_PASSWORD',
    defaultUser: 'sentinel_user',
    purpose: 'Sentinels monitor and fail over the nodes; the app also logs in to the Sentinels with it',
  },
};
