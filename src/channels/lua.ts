/**
 * The channel layer's Redis scripts. Each one replaces several channels_redis round trips with one, and
 * makes "check capacity, then write" atomic, so two senders can never both take a channel's last slot.
 *
 * Envelope headers start with `n1:<expiresAtMs>:` (see envelope.ts): the scripts read only that.
 * Keys of member queues and inboxes are built from prefixes passed in ARGV (from redis/keys.ts), because a
 * group's members are only known inside the script; on Cluster every channel-layer key shares one hash tag.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/connections.js';

/**
 * Appends one envelope to a bounded list. Expired envelopes sit at the head (lists keep send order), so
 * they are dropped before a channel is declared full: a live consumer is never shut out by messages nobody
 * will be given. PEXPIRE makes an abandoned list vanish once its newest message has expired.
 */
const PUSH_BOUNDED = `
local function push_bounded(key, payload, capacity, ttl, now)
  local len = redis.call('LLEN', key)
  if len >= capacity then
    while len > 0 do
      local head = redis.call('LINDEX', key, 0)
      local expires = head and tonumber(string.match(head, '^n1:(%d+):'))
      if not expires or expires > now then break end
      redis.call('LPOP', key)
      len = len - 1
    end
    if len >= capacity then return false end
  end
  redis.call('RPUSH', key, payload)
  redis.call('PEXPIRE', key, ttl)
  return true
end
`;

/** send: KEYS[1] = queue or inbox; ARGV = payload, capacity, ttlMs, nowMs. Returns 1, or 0 when full. */
export const SEND = `${PUSH_BOUNDED}
if push_bounded(KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])) then return 1 end
return 0
`;

/**
 * group add: KEYS[1] = the group's member set (channels or processes), KEYS[2] (optional) = the inbox of the
 * process that owns the channel. ARGV = member, nowMs, groupTtlMs[, control envelope, capacity, ttlMs].
 * Registering the owning process and queueing its control envelope happen together, so a group send right
 * after this reaches that process, behind the control envelope in its inbox.
 */
export const GROUP_ADD = `${PUSH_BOUNDED}
local now = tonumber(ARGV[2])
if KEYS[2] and not push_bounded(KEYS[2], ARGV[4], tonumber(ARGV[5]), ARGV[6], now) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * group send: KEYS[1] = non-local member channels, KEYS[2] = processes with local members.
 * ARGV = envelope, nowMs, cutoffMs (memberships added at or before it have expired), capacity, ttlMs,
 * queue key prefix, inbox key prefix, the sending process (it delivers to its own members itself).
 * One envelope per process, not per member: that is what keeps a 10,000-socket group at a few writes.
 * Returns { processes sent, channels sent, processes whose inbox was full, channels that were full }.
 */
export const GROUP_SEND = `${PUSH_BOUNDED}
local payload, now, cutoff = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local capacity, ttl = tonumber(ARGV[4]), ARGV[5]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
local sent_p, sent_c, full_p, full_c = 0, 0, {}, {}
for _, p in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '+inf')) do
  if p ~= ARGV[8] then
    if push_bounded(ARGV[7] .. p, payload, capacity, ttl, now) then sent_p = sent_p + 1 else full_p[#full_p + 1] = p end
  end
end
for _, c in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '+inf')) do
  if push_bounded(ARGV[6] .. c, payload, capacity, ttl, now) then sent_c = sent_c + 1 else full_c[#full_c + 1] = c end
end
return { sent_p, sent_c, full_p, full_c }
`;

/**
 * A process leaves a group's process set when its last local member left: KEYS[1] = process set,
 * KEYS[2] = its inbox, ARGV[1] = process id. Not while its inbox still holds envelopes (returns -1): one of
 * them may be another process adding a member here, whose registration this would undo. The layer tries
 * again after its next inbox batch.
 */
export const GROUP_LEAVE = `
if redis.call('LLEN', KEYS[2]) > 0 then return -1 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`;

/** A script run with EVALSHA, falling back to EVAL once when the server has not seen it (NOSCRIPT). */
export class LuaScript {
  readonly sha: string;

  constructor(readonly name: string, readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Not `async`: this sits on every send, and each extra promise frame shows up in the profile. */
  run(client: RedisClient, keys: readonly string[], args: readonly (string | Buffer | number)[]): Promise<unknown> {
    return client.evalsha(this.sha, keys.length, ...keys, ...args).catch((err: unknown) => {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    });
  }
}

export const SCRIPTS = {
  send: new LuaScript('send', SEND),
  groupAdd: new LuaScript('group-add', GROUP_ADD),
  groupSend: new LuaScript('group-send', GROUP_SEND),
  groupLeave: new LuaScript('group-leave', GROUP_LEAVE),
} as const;
