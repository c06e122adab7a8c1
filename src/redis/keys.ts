/**
 * The one module that builds Redis key and channel names. Nothing else in Naboom concatenates a key.
 * The ACL generator reads its patterns from `aclPatterns()` below, so a key the code builds and the ACL
 * does not grant is caught by the key tests, not by a production NOPERM.
 *
 * Two layouts exist: `standalone` (also Sentinel) and `cluster`. On Cluster every alert key shares the hash
 * tag `{panic}` so the ingest script can touch the stream, the alert state and the idempotency record in one
 * slot, and BullMQ's prefix is `{naboom:queue}`.
 */
import { NaboomError } from '../errors/catalogue.js';

export type KeyLayout = 'standalone' | 'cluster';

/** The key layout of a deployment: hash-tagged keys on Cluster, plain ones on standalone and Sentinel. */
export const layoutOf = (config: { readonly topology: { readonly kind: string } }): KeyLayout => (config.topology.kind === 'cluster' ? 'cluster' : 'standalone');

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Names allowed inside a key segment: no glob characters, no separators, no braces. */
const SEGMENT = /^[A-Za-z0-9_.\-!@]{1,200}$/;

/** Throws unless `value` is safe to embed in a key (user input never reaches a key unchecked). */
export function keySegment(value: string, what = 'key segment'): string {
  if (!SEGMENT.test(value)) {
    throw new NaboomError('NABOOM_BAD_REQUEST', `Invalid ${what}`);
  }
  return value;
}

/** Cache keys may hold any printable text (keys are literal in Redis; only ACL patterns are globs). */
const CACHE_KEY = /^[\x21-\x7e]{1,250}$/;

function cacheKey(key: string): string {
  if (!CACHE_KEY.test(key)) {
    throw new NaboomError('NABOOM_BAD_REQUEST', 'Invalid cache key: 1–250 printable ASCII characters, no spaces');
  }
  return key;
}

/** Cache names and their key prefixes (docs/contract.md §4). */
export const CACHE_PREFIXES = {
  default: 'naboom:cache',
  sessions: 'naboom:sessions',
  realtime: 'naboom:realtime',
} as const;
export type CacheName = keyof typeof CACHE_PREFIXES;

/**
 * The channel layer's namespace: its keys on both layouts (`{ch}` follows it on Cluster) and the pub/sub
 * channels the websocket role may use next to `emergency:*`.
 */
const CHANNELS_NAMESPACE = 'naboom:channels:';

/** Web Push subscriptions: the app role's, beside its accounts, but apart from `naboom:auth:*`. */
const PUSH_NAMESPACE = 'naboom:push:';

/**
 * Responder presence (realtime role, through an ACL selector: the GEO and sorted-set commands it needs are
 * granted on this namespace only). On Cluster every presence key carries the hash tag `{presence}`
 * (`naboom:presence:{presence}:geo`), so the presence scripts touch them all in one slot.
 */
const PRESENCE_NAMESPACE = 'naboom:presence:';

export interface KeyPatterns {
  /** `~pattern` read-write key patterns. */
  readonly keys: readonly string[];
  /** `%R~pattern` read-only key patterns. */
  readonly readKeys: readonly string[];
  /** `&pattern` pub/sub channel patterns. */
  readonly channels: readonly string[];
}

/** Every key name Naboom uses, for one layout. */
export interface KeySpace {
  /** `prefix:version:key` for the named cache. */
  cache(name: CacheName, key: string, version?: number): string;
  /** Prefix handed to the session store (it appends the session id). */
  readonly sessionStorePrefix: string;
  /** BullMQ prefix (BullMQ appends `:<queue>:<suffix>`). */
  readonly queuePrefix: string;
  /**
   * Keys the queue module keeps next to BullMQ's own, under the same prefix: inside the app role's
   * `~<queuePrefix>:*` pattern, and in BullMQ's slot on Cluster (MGET and MULTI over them stay single-slot).
   */
  readonly queue: {
    /** Sorted set of worker ids, scored by when their heartbeat expires (ms): verify finds workers without SCAN. */
    readonly workers: string;
    /** One worker's heartbeat (JSON, short TTL). */
    worker(id: string): string;
  };
  readonly auth: {
    user(username: string): string;
    readonly userIndex: string;
    token(tokenHash: string): string;
    /** Hashes of the API tokens issued to a user (revoked with the user). */
    userTokens(username: string): string;
  };
  /** Prefix handed to @fastify/rate-limit's Redis store. */
  readonly rateLimitPrefix: string;
  /** Web Push subscriptions (app role, the accounts database), a namespace of their own under `naboom:push:*`. */
  readonly push: {
    /** Hash of one user's push subscriptions: endpoint id → subscription JSON (removed with the user). */
    subscriptions(username: string): string;
    /** Set of the usernames that hold at least one subscription: the worker's fan-out reads it without SCAN. */
    readonly subscribers: string;
  };
  /**
   * Responder presence (realtime role, ACL selector on `naboom:presence:*`): positions, last-seen times and
   * availability; on Cluster all under the hash tag `{presence}` (one slot).
   */
  readonly presence: {
    /** GEO set: username → the responder's last reported position. */
    readonly geo: string;
    /** Sorted set: username → when the position was reported (ms); older than RESPONDER_STALE_S = gone. */
    readonly seen: string;
    /** Hash: username → `<available 0|1>|<accuracy_m or ''>`. */
    readonly info: string;
  };
  readonly channels: {
    /** Queue of a channel that any process may receive from. */
    queue(channel: string): string;
    /** Inbox of one process (its process-local channels and group deliveries). */
    inbox(processId: string): string;
    /** Members of a group that are not process-local channels. */
    group(group: string): string;
    /** Processes that have at least one local member in the group. */
    groupProcesses(group: string): string;
    /** `queue(c) === queuePrefix + c`: the group-send script builds member queue keys inside Redis. */
    readonly queuePrefix: string;
    /** `inbox(p) === inboxPrefix + p`: the group-send script builds process inbox keys inside Redis. */
    readonly inboxPrefix: string;
  };
  readonly alerts: {
    /** `panic:alerts:{severity}`: the per-severity durable stream. */
    stream(severity: Severity): string;
    /** Every alert event (created and updated) in order: the live feed and replay source. */
    readonly feed: string;
    /** Hash with the alert's current state and history. */
    state(alertId: string): string;
    /** `emergency:alert:{id}`: cached alert document (3600 s). */
    cache(alertId: string): string;
    /** Idempotency record for a user's `Idempotency-Key` (pass a hash of the header, never the raw value). */
    idempotency(userId: string, keyHash: string): string;
    /** Sorted set of open alerts by next escalation time. */
    readonly escalations: string;
    /** Alerts raised per reporter (for members listing their own). */
    byReporter(userId: string): string;
    /** `panic:thread:{id}`: the alert's message thread (a stream whose entry ids are the feed ids), bounded. */
    thread(alertId: string): string;
    /** Recently raised alerts (zset, score = created ms, member `<id> <lat> <lon>`): the ingest script links related alerts. */
    readonly recent: string;
    /**
     * Prefixes of `state()` and `cache()`, for the ingest script only: the alert id is born inside the
     * script (it is the stream entry id), so the script appends it. A unit test pins prefix + id === key.
     */
    readonly statePrefix: string;
    readonly cachePrefix: string;
  };
  /**
   * `emergency:broadcast`, the original platform's pub/sub channel, kept as the integration point for its
   * existing subscribers (docs/contract.md §4.1). The ingest script PUBLISHes `{"alert_id","severity","type"}`
   * for every newly stored alert (not for a retry, not for lifecycle changes). Only websocket_user may
   * SUBSCRIBE (realtime_user publishes; both hold `&emergency:*`). At most once, no replay: a subscriber
   * that is disconnected misses what was published meanwhile, so anything that must not miss an alert reads
   * the feed stream instead. Naboom itself never subscribes.
   */
  readonly broadcastChannel: string;
  /** Keys a role may write to prove it can do its job (verify, /health/redis). */
  probe(role: string, nonce: string): string;
}

/** Builds the key space for a layout. Pure; each process calls it once at start (`createKeySpace(layoutOf(config))`) and passes it down. */
export function createKeySpace(layout: KeyLayout): KeySpace {
  const panic = layout === 'cluster' ? '{panic}' : 'panic';
  // On Cluster the cached alert lives under the same hash tag so the ingest script stays single-slot.
  const emergency = layout === 'cluster' ? '{panic}:emergency' : 'emergency';
  const queuePrefix = layout === 'cluster' ? '{naboom:queue}' : 'naboom:queue';
  // A group send writes to every member queue and inbox in one script, so on Cluster all channel-layer keys
  // share one hash tag (one shard carries the channel layer; the ACL pattern naboom:channels:* still holds).
  const channels = layout === 'cluster' ? `${CHANNELS_NAMESPACE}{ch}:` : CHANNELS_NAMESPACE;
  const presence = layout === 'cluster' ? `${PRESENCE_NAMESPACE}{presence}:` : PRESENCE_NAMESPACE;
  const seg = keySegment;
  return Object.freeze({
    cache: (name: CacheName, key: string, version = 1) => `${CACHE_PREFIXES[name]}:${version}:${cacheKey(key)}`,
    sessionStorePrefix: 'naboom:sessions:sid:',
    queuePrefix,
    queue: Object.freeze({
      workers: `${queuePrefix}:workers`,
      worker: (id: string) => `${queuePrefix}:workers:${seg(id, 'worker id')}`,
    }),
    auth: Object.freeze({
      user: (username: string) => `naboom:auth:user:${seg(username, 'username')}`,
      userIndex: 'naboom:auth:users',
      token: (tokenHash: string) => `naboom:auth:token:${seg(tokenHash, 'token')}`,
      userTokens: (username: string) => `naboom:auth:tokens:${seg(username, 'username')}`,
    }),
    rateLimitPrefix: 'naboom:ratelimit:',
    push: Object.freeze({
      subscriptions: (username: string) => `${PUSH_NAMESPACE}subs:${seg(username, 'username')}`,
      subscribers: `${PUSH_NAMESPACE}subscribers`,
    }),
    presence: Object.freeze({
      geo: `${presence}geo`,
      seen: `${presence}seen`,
      info: `${presence}info`,
    }),
    channels: Object.freeze({
      queue: (channel: string) => `${channels}q:${seg(channel, 'channel name')}`,
      inbox: (processId: string) => `${channels}inbox:${seg(processId, 'process id')}`,
      group: (group: string) => `${channels}group:${seg(group, 'group name')}`,
      groupProcesses: (group: string) => `${channels}gproc:${seg(group, 'group name')}`,
      queuePrefix: `${channels}q:`,
      inboxPrefix: `${channels}inbox:`,
    }),
    alerts: Object.freeze({
      stream: (severity: Severity) => `${panic}:alerts:${severity}`,
      feed: `${panic}:feed`,
      state: (alertId: string) => `${panic}:alert:${seg(alertId, 'alert id')}`,
      cache: (alertId: string) => `${emergency}:alert:${seg(alertId, 'alert id')}`,
      idempotency: (userId: string, keyHash: string) => `${panic}:idem:${seg(userId, 'user id')}:${seg(keyHash, 'idempotency key')}`,
      escalations: `${panic}:escalations`,
      byReporter: (userId: string) => `${panic}:reporter:${seg(userId, 'user id')}`,
      thread: (alertId: string) => `${panic}:thread:${seg(alertId, 'alert id')}`,
      recent: `${panic}:recent`,
      statePrefix: `${panic}:alert:`,
      cachePrefix: `${emergency}:alert:`,
    }),
    broadcastChannel: 'emergency:broadcast',
    probe: (role: string, nonce: string) => {
      const r = seg(role);
      const n = seg(nonce);
      switch (r) {
        case 'app':
          return `naboom:cache:probe:${n}`;
        case 'websocket':
          return `naboom:channels:probe:${n}`;
        case 'realtime':
          return `naboom:realtime:probe:${n}`;
        default:
          throw new NaboomError('NABOOM_BAD_REQUEST', `Role ${r} has no key namespace`);
      }
    },
  });
}

/** The roles that own keys or channels; the ACL generator asks this function and nothing else. */
export type NamespaceOwner = 'app' | 'websocket' | 'realtime';

/** Key and channel patterns each role needs, derived from the same prefixes the builders use. */
export function aclPatterns(layout: KeyLayout, owner: NamespaceOwner): KeyPatterns {
  const ks = createKeySpace(layout);
  switch (owner) {
    case 'app':
      return {
        keys: [
          `${CACHE_PREFIXES.default}:*`,
          `${CACHE_PREFIXES.sessions}:*`,
          `${ks.queuePrefix}:*`,
          'naboom:auth:*',
          `${ks.rateLimitPrefix}*`,
          `${PUSH_NAMESPACE}*`,
        ],
        readKeys: [],
        channels: [],
      };
    case 'websocket':
      return {
        keys: [`${CHANNELS_NAMESPACE}*`],
        readKeys: [],
        channels: [`${CHANNELS_NAMESPACE}*`, 'emergency:*'],
      };
    case 'realtime':
      return {
        keys: layout === 'cluster' ? ['{panic}:*', `${CACHE_PREFIXES.realtime}:*`] : ['panic:*', 'emergency:*', `${CACHE_PREFIXES.realtime}:*`],
        readKeys: [],
        channels: ['emergency:*'],
      };
  }
}

/**
 * The key pattern of the realtime role's presence selector (`roles.ts`): the only keys its GEO commands may
 * touch. Apart from `aclPatterns()` on purpose: a root pattern would let every realtime command reach them.
 */
export const presenceAclPattern = (): string => `${PRESENCE_NAMESPACE}*`;

/** Glob match with Redis' semantics for the subset we use (`*` only). */
export function matchesPattern(pattern: string, key: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(key);
}

/**
 * The original Django services on the same Redis (DJANGO_COMPAT). Their libraries build their keys
 * themselves, so this module owns the prefixes they are configured with and the shapes those libraries
 * derive from them; `naboom django settings` writes these prefixes and the ACL profile grants these patterns.
 *
 * - django-redis (`KEY_PREFIX`, `VERSION` 1): `prefix:1:key`, the same keys as Naboom's named caches, so both
 *   sides read each other's values (both JSON).
 * - Django sessions on the `sessions` cache: `naboom:sessions:1:django.contrib.sessions.cache<session key>`.
 * - channels_redis with prefix `naboom:channels:` (trailing colon): `naboom:channels:<channel>` and
 *   `naboom:channels::group:<group>`. A Django channel name never contains `:` or braces and every Naboom
 *   channel-layer key has a `:` right after its first segment, so neither builds the other's keys.
 * - Celery (kombu `global_keyprefix` and the result backend's key prefixes): `naboom:celery:<key>`, results
 *   also published on the channel of the same name. kombu 5.2.4 WATCHes the unprefixed `unacked` hash when
 *   it restores a dead worker's tasks (read only).
 */
export const DJANGO_PREFIXES = {
  caches: CACHE_PREFIXES,
  cacheVersion: 1,
  channels: 'naboom:channels:',
  celery: 'naboom:celery:',
  celeryUnwatched: 'unacked',
} as const;

/** Django channel and group names as channels_redis validates them (`valid_channel_name`, `valid_group_name`). */
const DJANGO_CHANNEL = /^[a-zA-Z\d\-_.]{1,99}(![\d\w\-_.]*)?$/;
const DJANGO_GROUP = /^[a-zA-Z\d\-_.]{1,99}$/;

/** The keys the original Django libraries build from the prefixes above (for tests, verify and health). */
export interface DjangoKeySpace {
  cache(name: CacheName, key: string): string;
  session(sessionKey: string): string;
  /** channels_redis: a channel's sorted set (a process-specific channel is keyed by its part before `!`). */
  channel(name: string): string;
  /** channels_redis: a group's members. */
  group(name: string): string;
  /** Celery broker and result keys (and result channels): kombu and the backend prepend the prefix. */
  celery(key: string): string;
  /** A key a role may write to prove its Django grants (/health/redis). */
  probe(role: NamespaceOwner, nonce: string): string;
}

/** Builds the Django key space; the same on every layout (the Django libraries have no Cluster client). */
export function djangoKeySpace(): DjangoKeySpace {
  const p = DJANGO_PREFIXES;
  const channelName = (name: string): string => {
    if (!DJANGO_CHANNEL.test(name)) throw new NaboomError('NABOOM_BAD_REQUEST', 'Invalid Django channel name');
    const bang = name.indexOf('!');
    return bang < 0 ? name : name.slice(0, bang + 1);
  };
  return Object.freeze({
    cache: (name: CacheName, key: string) => `${p.caches[name]}:${p.cacheVersion}:${cacheKey(key)}`,
    session: (sessionKey: string) => `${p.caches.sessions}:${p.cacheVersion}:django.contrib.sessions.cache${keySegment(sessionKey, 'session key')}`,
    channel: (name: string) => `${p.channels}${channelName(name)}`,
    group: (name: string) => {
      if (!DJANGO_GROUP.test(name)) throw new NaboomError('NABOOM_BAD_REQUEST', 'Invalid Django group name');
      return `${p.channels}:group:${name}`;
    },
    celery: (key: string) => `${p.celery}${cacheKey(key)}`,
    probe: (role: NamespaceOwner, nonce: string) => {
      const n = keySegment(nonce);
      switch (role) {
        case 'app':
          return `${p.celery}naboom-health-probe-${n}`;
        case 'websocket':
          return `${p.channels}naboom-health-probe.${n}`;
        case 'realtime':
          return `${p.caches.realtime}:${p.cacheVersion}:naboom-health-probe-${n}`;
      }
    },
  });
}

/**
 * The key and channel patterns the Django profile adds to a role, beyond `aclPatterns()`. Only Celery needs
 * new ones: its keys and result channels under `naboom:celery:`, and a read-only grant on the one unprefixed
 * key kombu WATCHes; django-redis and channels_redis stay inside the namespaces their roles already own.
 */
export function djangoAclPatterns(owner: NamespaceOwner): KeyPatterns {
  switch (owner) {
    case 'app':
      return { keys: [`${DJANGO_PREFIXES.celery}*`], readKeys: [DJANGO_PREFIXES.celeryUnwatched], channels: [`${DJANGO_PREFIXES.celery}*`] };
    case 'websocket':
    case 'realtime':
      return { keys: [], readKeys: [], channels: [] };
  }
}
