--[[
  Sends one sealed envelope to a group: one per registered process (not per member: that is what keeps a
  10,000-socket group at a few writes), plus one per non-local member channel, each capacity-checked.
  Expired memberships are dropped first. Member keys are built from prefixes passed in (from redis/keys.ts),
  because the members are only known here; on Cluster every channel-layer key shares one hash tag.

  KEYS[1] channels     non-local member channels (zset, score = time added)
  KEYS[2] processes    processes with local members (zset, score = time registered)
  ARGV[1] payload      the sealed envelope
  ARGV[2] now          ms
  ARGV[3] cutoff       ms; memberships added at or before it have expired
  ARGV[4] capacity     most envelopes a queue or inbox may hold
  ARGV[5] ttl          a queue's or inbox's expiry, ms
  ARGV[6] queuePrefix  a member channel's queue key = queuePrefix .. channel
  ARGV[7] inboxPrefix  a process's inbox key = inboxPrefix .. process id
  ARGV[8] sender       the sending process (it delivers to its own members itself)

  Returns { processes sent, channels sent, processes whose inbox was full, channels that were full }.
]]
--- @include "push-bounded"

local channels = KEYS[1]
local processes = KEYS[2]
local payload = ARGV[1]
local now = tonumber(ARGV[2])
local cutoff = ARGV[3]
local capacity = tonumber(ARGV[4])
local ttl = ARGV[5]
local queuePrefix = ARGV[6]
local inboxPrefix = ARGV[7]
local sender = ARGV[8]

redis.call('ZREMRANGEBYSCORE', channels, '-inf', cutoff)
redis.call('ZREMRANGEBYSCORE', processes, '-inf', cutoff)
local sent_p, sent_c, full_p, full_c = 0, 0, {}, {}
for _, p in ipairs(redis.call('ZRANGEBYSCORE', processes, '-inf', '+inf')) do
  if p ~= sender then
    if push_bounded(inboxPrefix .. p, payload, capacity, ttl, now) then sent_p = sent_p + 1 else full_p[#full_p + 1] = p end
  end
end
for _, c in ipairs(redis.call('ZRANGEBYSCORE', channels, '-inf', '+inf')) do
  if push_bounded(queuePrefix .. c, payload, capacity, ttl, now) then sent_c = sent_c + 1 else full_c[#full_c + 1] = c end
end
return { sent_p, sent_c, full_p, full_c }
