--[[
  Adds a member to a group's member set: a normal channel to the channel set, or a process to the process
  set. When the channel belongs to another process, that process is registered and queued the control
  envelope that adds its channel in the same step, so a group send right after this reaches that process,
  behind the control envelope in its inbox. One or two keys, hence -N.

  KEYS[1] members   the group's member set (zset, score = time added)
  KEYS[2] inbox?    the owning process's inbox, only with a control envelope
  ARGV[1] member    the channel or process id
  ARGV[2] now       ms, the member's score
  ARGV[3] groupTtl  the member set's expiry, ms
  ARGV[4] control?  the sealed control envelope (with inbox)
  ARGV[5] capacity? most envelopes the inbox may hold (with inbox)
  ARGV[6] ttl?      the inbox's expiry, ms (with inbox)

  Returns 1, or 0 when the inbox is full (nothing is changed).
]]
--- @include "push-bounded"

local members = KEYS[1]
local inbox = KEYS[2]
local member = ARGV[1]
local now = tonumber(ARGV[2])
local groupTtl = ARGV[3]
local control = ARGV[4]
local capacity = tonumber(ARGV[5])
local ttl = ARGV[6]

if inbox and not push_bounded(inbox, control, capacity, ttl, now) then return 0 end
redis.call('ZADD', members, now, member)
redis.call('PEXPIRE', members, groupTtl)
return 1
