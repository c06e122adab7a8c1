/**
 * The one catalogue of Redis roles: who each ACL user is and what it is for (from config/roles.ts), which keys and channels it owns
 * and the exact commands it needs — each with the reason it is granted. The ACL generator, the role clients,
 * `verify` and `/health/redis` all read this table.
 */
import { ROLE_ACCOUNTS, ROLE_NAMES, type RoleAccount, type RoleName } from '../config/roles.js';
import { DJANGO_GRANTS } from './django.js';
import { aclPatterns, djangoAclPatterns, presenceAclPattern, type KeyLayout, type KeyPatterns } from './keys.js';

export { ROLE_NAMES, type RoleName };

/** Roles that the application processes (serve, worker) connect as. */
export const APP_ROLES = ['app', 'websocket', 'realtime'] as const satisfies readonly RoleName[];
export type AppRole = (typeof APP_ROLES)[number];

/** Roles with a Redis connection from Naboom's own code (not replication/Sentinel plumbing). */
export const CLIENT_ROLES = ['master', 'app', 'websocket', 'realtime', 'monitoring'] as const satisfies readonly RoleName[];
export type ClientRole = (typeof CLIENT_ROLES)[number];

export interface Grant {
  /** Lower-case command names; `container|sub` for one subcommand. */
  readonly commands: readonly string[];
  readonly why: string;
}

/**
 * A Redis 7 ACL selector, `(~pattern +cmd …)`: commands granted on these keys only. A command is allowed when
 * the user's root permissions or any one selector allow it with all of its keys, so a selector grants
 * commands the root does not hold on keys the root does not cover, and nothing else.
 */
export interface Selector {
  readonly keys: readonly string[];
  /** Lower-case command names, as in `Grant`. */
  readonly commands: readonly string[];
  readonly why: string;
}

/** A role's account (variables, default user, purpose: config/roles.ts) and what it may do in Redis. */
export interface RoleSpec extends RoleAccount {
  readonly name: RoleName;
  /** Database selected in standalone/Sentinel mode (Cluster has only DB 0). `undefined`: no own DB. */
  readonly db: number | undefined;
  /** Full access (`~* &* +@all`): only the provisioning role. */
  readonly superuser: boolean;
  patterns(layout: KeyLayout): KeyPatterns;
  grants(layout: KeyLayout): readonly Grant[];
  /** Commands granted on some keys only (ACL selectors); none for most roles. */
  selectors?(layout: KeyLayout): readonly Selector[];
}

const NONE: KeyPatterns = { keys: [], readKeys: [], channels: [] };

const CONNECT: Grant = {
  commands: ['ping', 'info', 'select', 'client|setname'],
  why: 'connection set-up: ioredis sends SELECT and CLIENT SETNAME, and INFO for its ready check (BullMQ also reads INFO for its version check); PING for health',
};
const CLUSTER: Grant = {
  commands: ['cluster|slots', 'cluster|info', 'readonly', 'readwrite', 'asking'],
  why: 'Cluster only: the ioredis Cluster client reads the slot map and sends READONLY/READWRITE/ASKING on node connections',
};
const connect = (layout: KeyLayout): Grant[] => (layout === 'cluster' ? [CONNECT, CLUSTER] : [CONNECT]);

const ROLES: Record<RoleName, RoleSpec> = {
  master: {
    name: 'master',
    ...ROLE_ACCOUNTS.master,
    db: undefined,
    superuser: true,
    patterns: () => ({ keys: ['*'], readKeys: [], channels: ['*'] }),
    grants: () => [{ commands: ['@all'], why: 'the administrative user; it must carry a password' }],
  },
  app: {
    name: 'app',
    ...ROLE_ACCOUNTS.app,
    db: 0,
    superuser: false,
    patterns: (layout) => aclPatterns(layout, 'app'),
    grants: (layout) => [
      ...connect(layout),
      {
        commands: ['get', 'set', 'del', 'unlink', 'mget', 'exists', 'incrby', 'expire', 'ttl'],
        why: 'caches (get/set/delete/many/increment/ttl) and the session store (GET, SET EX, EXPIRE, DEL)',
      },
      { commands: ['hset', 'hget', 'hgetall', 'hdel', 'sadd', 'srem', 'smembers'], why: 'user accounts and API tokens under naboom:auth:*' },
      {
        commands: ['hget', 'hset', 'hdel', 'hlen', 'hgetall', 'sadd', 'srem', 'smembers', 'del'],
        why: 'Web Push subscriptions under naboom:push:* (one hash per user, bounded with HLEN; the set of users holding any) and their removal with the user or on a 404/410 from the push service',
      },
      { commands: ['eval', 'evalsha'], why: 'rate-limit counter script (@fastify/rate-limit) and every BullMQ script' },
      {
        commands: [
          'bzpopmin', 'xread', 'multi', 'exec',
          'exists', 'type', 'rename', 'time', 'persist', 'pexpire', 'pexpireat', 'pttl', 'incr',
          'hmset', 'hmget', 'hexists', 'hincrby', 'hlen',
          'lpush', 'rpush', 'lpop', 'rpop', 'rpoplpush', 'lrange', 'lindex', 'llen', 'lrem', 'lset', 'ltrim', 'lpos',
          'scard', 'sismember',
          'zadd', 'zrem', 'zscore', 'zcard', 'zcount', 'zrange', 'zrevrange', 'zrangebyscore', 'zrevrangebyscore',
          'zrangebylex', 'zlexcount', 'zremrangebyscore', 'zremrangebyrank', 'zpopmin',
          'xadd', 'xrange', 'xlen', 'xtrim', 'xdel',
        ],
        why: 'BullMQ: the commands inside its Lua scripts plus BZPOPMIN (worker marker), XREAD (QueueEvents) and MULTI/EXEC',
      },
    ],
  },
  websocket: {
    name: 'websocket',
    ...ROLE_ACCOUNTS.websocket,
    db: 1,
    superuser: false,
    patterns: (layout) => aclPatterns(layout, 'websocket'),
    grants: (layout) => [
      ...connect(layout),
      { commands: ['eval', 'evalsha'], why: 'channel-layer scripts (send, group add, group send, group leave): one round trip each, capacity check and write atomic' },
      {
        commands: ['rpush', 'llen', 'lindex', 'lpop', 'pexpire'],
        why: 'inside the scripts: bounded appends to channel queues and process inboxes; expired messages are dropped from the head before a channel counts as full; PEXPIRE so abandoned lists vanish',
      },
      { commands: ['lpop', 'blpop'], why: 'receive: LPOP takes a batch when messages wait, BLPOP waits on a dedicated connection when none do' },
      { commands: ['lpush'], why: 'close/discard put messages taken but not yet handed out back at the head of their channel (no loss, order kept)' },
      { commands: ['zadd', 'zrem', 'zrangebyscore', 'zremrangebyscore'], why: 'group members and registered processes, scored by time: add, discard, expire, list in the group-send script' },
      { commands: ['rpush', 'del'], why: 'close wakes the inbox loop with its stop token and deletes the inbox' },
      { commands: ['get', 'set', 'del'], why: 'verify and /health/redis write, read and delete a probe key in naboom:channels:*' },
      { commands: ['publish', 'subscribe', 'unsubscribe'], why: 'emergency:broadcast and naboom:channels:* pub/sub' },
    ],
  },
  realtime: {
    name: 'realtime',
    ...ROLE_ACCOUNTS.realtime,
    db: 4,
    superuser: false,
    patterns: (layout) => aclPatterns(layout, 'realtime'),
    grants: (layout) => [
      ...connect(layout),
      { commands: ['eval', 'evalsha'], why: 'alert ingest, lifecycle and escalation scripts (atomic: stream + state + idempotency + cache + announce)' },
      { commands: ['xadd', 'xrange', 'xrevrange', 'xread'], why: 'alert streams: append (MAXLEN ~), list/replay, and the live-feed tail (XREAD BLOCK)' },
      { commands: ['hset', 'hget'], why: 'alert state and history' },
      { commands: ['xlen'], why: "an alert's thread (panic:thread:<id>, a stream): the message script counts it to keep it bounded" },
      { commands: ['zadd', 'zrem', 'zrange', 'zrangebyscore', 'zremrangebyrank'], why: 'escalation schedule, and the per-reporter index (capped at the newest 1000)' },
      { commands: ['get', 'set', 'del', 'unlink', 'mget', 'incrby', 'expire', 'ttl'], why: 'realtime cache, the emergency:alert:{id} cache, and the verify/health probe key' },
      { commands: ['publish'], why: 'announce each new alert id on emergency:broadcast' },
      { commands: ['wait'], why: 'HA topologies: confirm an alert reached a replica before answering 201' },
    ],
    selectors: () => [
      {
        keys: [presenceAclPattern()],
        commands: ['eval', 'evalsha', 'geoadd', 'geosearch', 'geopos', 'zadd', 'zrem', 'zscore', 'zrangebyscore', 'zremrangebyscore', 'hset', 'hmget', 'hdel'],
        why:
          'responder presence (src/presence/lua/*): the scripts run with presence keys only (EVAL/EVALSHA); GEOADD/ZADD/HSET store a position, its time and availability; ZRANGEBYSCORE/ZREMRANGEBYSCORE/ZREM/HDEL prune stale ones; GEOSEARCH/GEOPOS/ZSCORE/HMGET read them. On naboom:presence:* only: the role cannot GEOADD anywhere else, and its root commands never reach these keys',
      },
    ],
  },
  monitoring: {
    name: 'monitoring',
    ...ROLE_ACCOUNTS.monitoring,
    db: 7,
    superuser: false,
    patterns: () => NONE,
    grants: (layout) => [
      ...connect(layout),
      { commands: ['dbsize'], why: 'key counts for /health/redis' },
      { commands: ['slowlog|get', 'slowlog|len', 'latency|latest'], why: 'slow-command and latency statistics for operators' },
    ],
  },
  replica: {
    name: 'replica',
    ...ROLE_ACCOUNTS.replica,
    db: undefined,
    superuser: false,
    patterns: () => NONE,
    grants: () => [{ commands: ['psync', 'replconf', 'ping'], why: 'the replication handshake and stream (Redis documentation)' }],
  },
  sentinel: {
    name: 'sentinel',
    ...ROLE_ACCOUNTS.sentinel,
    db: undefined,
    superuser: false,
    patterns: () => ({ keys: [], readKeys: [], channels: ['__sentinel__:hello'] }),
    grants: () => [
      {
        commands: ['multi', 'exec', 'ping', 'info', 'role', 'subscribe', 'publish', 'slaveof', 'config|rewrite', 'client|setname', 'client|kill', 'script|kill'],
        why: 'the list Redis documents for a Sentinel user (monitoring, hello messages, failover)',
      },
    ],
  },
};

export function roleSpec(name: RoleName): RoleSpec {
  return ROLES[name];
}

export const allRoles = (): readonly RoleSpec[] => ROLE_NAMES.map((n) => ROLES[n]);

/** Grant sets a deployment can switch on; `django`: the original Django services share the Redis (DJANGO_COMPAT). */
export interface RoleProfile {
  readonly django: boolean;
}
export const NO_PROFILE: RoleProfile = Object.freeze({ django: false });

const isAppRole = (name: RoleName): name is AppRole => (APP_ROLES as readonly string[]).includes(name);

/** A role's grants with their reasons: its own, plus the profile's (src/redis/django.ts). */
export function roleGrants(name: RoleName, layout: KeyLayout, profile: RoleProfile = NO_PROFILE): readonly Grant[] {
  const own = ROLES[name].grants(layout);
  return profile.django && isAppRole(name) ? [...own, ...DJANGO_GRANTS[name]] : own;
}

/** A role's key and channel patterns: its own, plus the profile's (from the key module). */
export function rolePatterns(name: RoleName, layout: KeyLayout, profile: RoleProfile = NO_PROFILE): KeyPatterns {
  const own = ROLES[name].patterns(layout);
  if (!profile.django || !isAppRole(name)) return own;
  const extra = djangoAclPatterns(name);
  const merge = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];
  return { keys: merge(own.keys, extra.keys), readKeys: merge(own.readKeys, extra.readKeys), channels: merge(own.channels, extra.channels) };
}

/** A role's selectors (none unless its spec declares some). */
export function roleSelectors(name: RoleName, layout: KeyLayout): readonly Selector[] {
  return ROLES[name].selectors?.(layout) ?? [];
}

/** Sorted, de-duplicated command list of a role (without the `@all` of the superuser). */
export function roleCommands(name: RoleName, layout: KeyLayout, profile: RoleProfile = NO_PROFILE): string[] {
  const set = new Set<string>();
  for (const g of roleGrants(name, layout, profile)) for (const c of g.commands) set.add(c);
  return [...set].sort();
}

/** Commands no application role may ever hold (docs/contract.md §3). */
export const FORBIDDEN_FOR_APP_ROLES = [
  'config', 'acl', 'keys', 'scan', 'flushall', 'flushdb', 'debug', 'shutdown', 'monitor', 'module', 'replicaof', 'slaveof', 'swapdb',
] as const;

export const isRoleName = (v: string): v is RoleName => (ROLE_NAMES as readonly string[]).includes(v);
