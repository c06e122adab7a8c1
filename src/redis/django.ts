/**
 * The Django profile (DJANGO_COMPAT): what the original Django services — django-redis, Django's cache
 * sessions, channels_redis, Celery/kombu — need on Naboom's Redis, as observed with Debian 12's packages
 * (Django 3.2.25, django-redis 5.2.0, channels_redis 4.0.0, Celery 5.2.6, kombu 5.2.4, redis-py 4.3.4).
 *
 * `DJANGO_CALLS` is the one table of every library call and the commands it sends; `DJANGO_GRANTS` is what
 * the profile adds to each role beyond Naboom's own grants (roles.ts merges them), each with the library call
 * that needs it. A unit test keeps the two in step: every command of the table is granted with the profile.
 *
 * Deliberately absent: SCAN and KEYS (`delete_pattern`, `iter_keys`, `keys()`: they take no key argument, so
 * no pattern can limit them), FLUSHDB (`clear()`: it would wipe Naboom's accounts and queue in the same DB),
 * KEYS inside Lua (channels_redis `flush()`), PSUBSCRIBE (Celery remote control and events, switched off).
 */
import { djangoKeySpace, type CacheName, type NamespaceOwner } from './keys.js';

/** The same shape as a role's grant in roles.ts. */
export interface DjangoGrant {
  readonly commands: readonly string[];
  readonly why: string;
}

/** Grants the profile adds per role (the ACL patterns it adds come from `djangoAclPatterns()` in keys.ts). */
export const DJANGO_GRANTS: Readonly<Record<NamespaceOwner, readonly DjangoGrant[]>> = {
  app: [
    {
      commands: ['script|load'],
      why: 'django-redis cache.lock() and kombu\'s unacked mutex (redis-py Lock): redis-py runs its scripts with EVALSHA and loads them with SCRIPT LOAD after NOSCRIPT',
    },
    { commands: ['brpop'], why: 'Celery worker (kombu): waits for tasks with BRPOP on naboom:celery:<queue>' },
    { commands: ['setex'], why: 'Celery result backend: stores each task state with SETEX (result_expires)' },
    {
      commands: ['publish', 'subscribe', 'unsubscribe'],
      why: 'Celery result backend: publishes each state change on the result key\'s channel; AsyncResult.get() subscribes to it (&naboom:celery:*)',
    },
    { commands: ['watch'], why: 'kombu restores a dead worker\'s unacknowledged tasks in a WATCH unacked / MULTI transaction (%R~unacked)' },
  ],
  websocket: [
    { commands: ['zcount', 'expire'], why: 'channels_redis send() and group_add(): capacity check (ZCOUNT) and EXPIRE on channel and group sorted sets' },
    { commands: ['zrange'], why: 'channels_redis group_send() lists the members; receive()\'s clean-up script reads the in-flight set' },
    { commands: ['bzpopmin'], why: 'channels_redis receive() waits with BZPOPMIN' },
    {
      commands: ['zpopmin'],
      why: 'channels_redis receive() clears the in-flight backup with ZPOPMIN in a detached task: refused, it fails silently and the next receive() delivers the message twice',
    },
    { commands: ['multi', 'exec'], why: 'channels_redis group_send() expires old messages in a redis-py pipeline (MULTI/EXEC)' },
  ],
  realtime: [
    { commands: ['exists'], why: 'django-redis has_key(), ttl(), pttl() and the incr() script (refused inside the script, django-redis falls back silently)' },
    { commands: ['multi', 'exec'], why: 'django-redis set_many() (a redis-py pipeline)' },
    { commands: ['pexpire', 'persist', 'pttl'], why: 'django-redis touch() (PEXPIRE; PERSIST for timeout=None), persist(), pttl()' },
    { commands: ['script|load'], why: 'django-redis cache.lock() on the realtime cache (redis-py Lock: EVALSHA, SCRIPT LOAD after NOSCRIPT)' },
  ],
};

export type DjangoLibrary = 'django-redis' | 'django sessions' | 'channels_redis' | 'celery';

/** One library call and the commands it sends, each with a key of its namespace (for `ACL DRYRUN`). */
export interface DjangoCall {
  readonly library: DjangoLibrary;
  readonly call: string;
  readonly role: NamespaceOwner;
  readonly commands: readonly (readonly string[])[];
}

/** The Django caches and the role each one authenticates as (the original's mapping). */
export const DJANGO_CACHES: readonly { readonly name: CacheName; readonly role: NamespaceOwner }[] = [
  { name: 'default', role: 'app' },
  { name: 'sessions', role: 'app' },
  { name: 'realtime', role: 'realtime' },
];

function cacheCalls(name: CacheName, role: NamespaceOwner): DjangoCall[] {
  const ks = djangoKeySpace();
  const k = ks.cache(name, 'verify');
  const k2 = ks.cache(name, 'verify2');
  const lock = ks.cache(name, 'verify-lock');
  const call = (c: string, commands: string[][]): DjangoCall => ({ library: 'django-redis', call: `caches['${name}'].${c}`, role, commands });
  return [
    call('get()', [['GET', k]]),
    call('set()', [['SET', k, 'v', 'PX', '300000']]),
    call('add() / get_or_set()', [['GET', k], ['SET', k, 'v', 'NX', 'PX', '300000']]),
    call('incr() / decr()', [['EVAL', 'return 1', '1', k, '1'], ['EXISTS', k], ['INCRBY', k, '1']]),
    call('ttl() / pttl()', [['EXISTS', k], ['TTL', k], ['PTTL', k]]),
    call('has_key()', [['EXISTS', k]]),
    call('get_many()', [['MGET', k, k2]]),
    call('set_many()', [['MULTI'], ['SET', k, 'v', 'PX', '300000'], ['EXEC']]),
    call('delete() / delete_many()', [['DEL', k, k2]]),
    call('touch()', [['PEXPIRE', k, '300000'], ['PERSIST', k]]),
    call('expire() / persist()', [['EXPIRE', k, '300'], ['PERSIST', k]]),
    call('lock()', [['SET', lock, 't', 'NX', 'PX', '10000'], ['EVALSHA', '0'.repeat(40), '1', lock, 't'], ['SCRIPT', 'LOAD', 'return 1'], ['GET', lock], ['DEL', lock], ['PEXPIRE', lock, '10000']]),
  ];
}

function sessionCalls(): DjangoCall[] {
  const k = djangoKeySpace().session('verify0123456789abcdefghijklmnop');
  return [
    {
      library: 'django sessions',
      call: 'SessionStore (cache backend): load, create, save, exists, delete',
      role: 'app',
      commands: [['GET', k], ['SET', k, 'v', 'NX', 'PX', '86400000'], ['SET', k, 'v', 'PX', '86400000'], ['EXISTS', k], ['DEL', k]],
    },
  ];
}

function channelCalls(): DjangoCall[] {
  const ks = djangoKeySpace();
  const ch = ks.channel('verify.channel');
  const inflight = `${ch}$inflight`;
  const g = ks.group('verify-group');
  const call = (c: string, commands: string[][]): DjangoCall => ({ library: 'channels_redis', call: `RedisChannelLayer.${c}`, role: 'websocket', commands });
  return [
    call('send()', [['ZREMRANGEBYSCORE', ch, '0', '1'], ['ZCOUNT', ch, '-inf', '+inf'], ['ZADD', ch, '1', 'm'], ['EXPIRE', ch, '300']]),
    call('receive()', [['EVAL', 'return 1', '0', ch, inflight], ['ZRANGE', inflight, '0', '-1', 'WITHSCORES'], ['ZADD', ch, '1', 'm'], ['DEL', inflight], ['BZPOPMIN', ch, '1'], ['ZADD', inflight, '1', 'm'], ['ZPOPMIN', inflight]]),
    call('group_add()', [['ZADD', g, '1', 'c'], ['EXPIRE', g, '86400']]),
    call('group_discard()', [['ZREM', g, 'c']]),
    call('group_send()', [['ZREMRANGEBYSCORE', g, '0', '1'], ['ZRANGE', g, '0', '-1'], ['MULTI'], ['ZREMRANGEBYSCORE', ch, '0', '1'], ['EXEC'], ['EVAL', 'return 1', '1', ch, 'm'], ['ZCOUNT', ch, '-inf', '+inf'], ['ZADD', ch, '1', 'm'], ['EXPIRE', ch, '300']]),
  ];
}

function celeryCalls(): DjangoCall[] {
  const ks = djangoKeySpace();
  const q = ks.celery('celery');
  const binding = ks.celery('_kombu.binding.celery');
  const unacked = ks.celery('unacked');
  const index = ks.celery('unacked_index');
  const mutex = ks.celery('unacked_mutex');
  const meta = ks.celery('celery-task-meta-verify');
  const call = (c: string, commands: string[][]): DjangoCall => ({ library: 'celery', call: c, role: 'app', commands });
  return [
    call('task.delay() (kombu producer)', [['SADD', binding, 'celery\x06\x16\x06\x16celery'], ['SMEMBERS', binding], ['LPUSH', q, 'm']]),
    call('worker: consume and acknowledge', [['BRPOP', q, '1'], ['MULTI'], ['ZADD', index, '1', 't'], ['HSET', unacked, 't', 'm'], ['EXEC'], ['ZREM', index, 't'], ['HDEL', unacked, 't'], ['LLEN', q]]),
    call('worker start: restore a dead worker\'s tasks (kombu restore_visible)', [
      ['SET', mutex, 't', 'NX', 'PX', '300000'],
      ['ZREVRANGEBYSCORE', index, '1', '0', 'WITHSCORES', 'LIMIT', '0', '10'],
      ['WATCH', 'unacked'],
      ['HGET', unacked, 't'],
      ['RPUSH', q, 'm'],
      ['EVALSHA', '0'.repeat(40), '1', mutex, 't'],
      ['SCRIPT', 'LOAD', 'return 1'],
      ['GET', mutex],
      ['DEL', mutex],
    ]),
    call('result backend: store and publish a state', [['MULTI'], ['SETEX', meta, '86400', 'v'], ['PUBLISH', meta, 'v'], ['EXEC']]),
    call('AsyncResult.get() / forget()', [['SUBSCRIBE', meta], ['GET', meta], ['MGET', meta], ['UNSUBSCRIBE', meta], ['DEL', meta]]),
  ];
}

/** Every library call of the original Django services with the commands it sends: the one table verify checks. */
export function djangoCalls(): DjangoCall[] {
  return [...DJANGO_CACHES.flatMap((c) => cacheCalls(c.name, c.role)), ...sessionCalls(), ...channelCalls(), ...celeryCalls()];
}

/**
 * Operations of the Django libraries that stay refused with the profile, and the safe alternative to each.
 * verify checks them with `ACL DRYRUN` as the role the library runs as.
 */
export const DJANGO_REFUSED: readonly { readonly call: string; readonly role: NamespaceOwner; readonly args: readonly string[]; readonly instead: string }[] = [
  { call: 'cache.delete_pattern() / iter_keys()', role: 'app', args: ['SCAN', '0', 'MATCH', 'naboom:cache:1:*'], instead: 'bump the cache VERSION, or delete the keys you know' },
  { call: 'cache.keys()', role: 'app', args: ['KEYS', 'naboom:cache:1:*'], instead: 'keep an index of the keys you need, or bump VERSION' },
  { call: 'cache.clear()', role: 'app', args: ['FLUSHDB'], instead: 'bump the cache VERSION (old entries expire by themselves)' },
  { call: 'caches[\'realtime\'].clear()', role: 'realtime', args: ['FLUSHDB'], instead: 'bump the cache VERSION' },
  { call: 'channel_layer.flush()', role: 'websocket', args: ['KEYS', 'naboom:channels:*'], instead: 'let messages and groups expire (expiry, group_expiry), or sweep as the master role' },
  { call: 'Celery remote control and events (pidbox, celeryev)', role: 'app', args: ['PSUBSCRIBE', 'naboom:celery:*'], instead: 'worker_enable_remote_control=False and --without-gossip --without-mingle --without-heartbeat' },
  { call: 'a write to the unprefixed unacked hash', role: 'app', args: ['HSET', 'unacked', 't', 'm'], instead: 'kombu only WATCHes it; its data lives under naboom:celery:' },
  { call: 'SCRIPT FLUSH', role: 'app', args: ['SCRIPT', 'FLUSH'], instead: 'scripts are loaded on demand; nothing needs a flush' },
];
