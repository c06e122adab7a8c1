--[[
  Stores one responder's presence atomically: with a position, GEOADD + last-seen ZADD + availability and
  accuracy in one step; without one, only the availability of a position that is still fresh (a stale or
  missing position is not revived by a report that carries none). Stale responders are pruned first.

  KEYS[1] geo               GEO set: username → position
  KEYS[2] seen              sorted set: username → when the position was reported (ms)
  KEYS[3] info              hash: username → '<available 0|1>|<accuracy_m or empty>'
  ARGV[1] username
  ARGV[2] available         '1' or '0'
  ARGV[3] now               ms
  ARGV[4] staleBefore       ms; positions reported before it no longer count
  ARGV[5] lon               '' when the report carries no position
  ARGV[6] lat
  ARGV[7] accuracy          metres, or ''

  Returns {lon, lat, seen ms, info} of the stored presence, or {} when there is no fresh position.
]]

local geo = KEYS[1]
local seen = KEYS[2]
local info = KEYS[3]
local username = ARGV[1]
local available = ARGV[2]
local now = ARGV[3]
local staleBefore = ARGV[4]
local lon = ARGV[5]
local lat = ARGV[6]
local accuracy = ARGV[7]

--- @include "presence-prune"

pruneStale(geo, seen, info, staleBefore)
if lon ~= '' then
  redis.call('GEOADD', geo, lon, lat, username)
  redis.call('ZADD', seen, now, username)
  redis.call('HSET', info, username, available .. '|' .. accuracy)
else
  local at = redis.call('ZSCORE', seen, username)
  if not at then return {} end
  local old = redis.call('HMGET', info, username)[1] or ''
  local oldAccuracy = string.match(old, '|(.*)$') or ''
  redis.call('HSET', info, username, available .. '|' .. oldAccuracy)
end
local pos = redis.call('GEOPOS', geo, username)[1]
if not pos then return {} end
return {pos[1], pos[2], redis.call('ZSCORE', seen, username), redis.call('HMGET', info, username)[1] or ''}
