--[[
  A process leaves a group's process set when its last local member left, but not while its inbox still
  holds envelopes: one of them may be another process adding a member here, whose registration this would
  undo. The layer tries again after its next inbox batch.

  KEYS[1] processes  the group's process set
  KEYS[2] inbox      the leaving process's inbox
  ARGV[1] process    the leaving process's id

  Returns 1 when it left, -1 while its inbox is not empty.
]]

local processes = KEYS[1]
local inbox = KEYS[2]
local process = ARGV[1]

if redis.call('LLEN', inbox) > 0 then return -1 end
redis.call('ZREM', processes, process)
return 1
