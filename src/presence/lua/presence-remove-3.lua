--[[
  Deletes one responder's presence (position, last-seen time, availability) in one step: on removal of the
  account, a demotion to member, or at the responder's request.

  KEYS[1] geo               GEO set: username → position
  KEYS[2] seen              sorted set: username → when the position was reported (ms)
  KEYS[3] info              hash: username → '<available 0|1>|<accuracy_m or empty>'
  ARGV[1] username

  Returns 1 when there was something to delete, else 0.
]]

local geo = KEYS[1]
local seen = KEYS[2]
local info = KEYS[3]
local username = ARGV[1]

local n = redis.call('ZREM', geo, username) + redis.call('ZREM', seen, username) + redis.call('HDEL', info, username)
if n > 0 then return 1 end
return 0
