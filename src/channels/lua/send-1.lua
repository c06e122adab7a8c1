--[[
  Queues one sealed envelope on a normal channel's queue or a process's inbox, unless it is full.
  The capacity check and the push are one step, so two senders can never both take the last slot.

  KEYS[1] list      the channel's queue or the owning process's inbox
  ARGV[1] payload   the sealed envelope
  ARGV[2] capacity  most envelopes the list may hold
  ARGV[3] ttl       the list's expiry, ms (message expiry)
  ARGV[4] now       ms; envelopes that expired before it make room

  Returns 1 when queued, 0 when the list is full.
]]
--- @include "push-bounded"

local list = KEYS[1]
local payload = ARGV[1]
local capacity = tonumber(ARGV[2])
local ttl = ARGV[3]
local now = tonumber(ARGV[4])

if push_bounded(list, payload, capacity, ttl, now) then return 1 end
return 0
