--[[
  The responders nearest to each of a batch of points (the alerts of one turn, or one API request), after
  pruning the stale ones in the same step: GEOSEARCH … FROMLONLAT … BYRADIUS … ASC WITHDIST per point.

  KEYS[1] geo               GEO set: username → position
  KEYS[2] seen              sorted set: username → when the position was reported (ms)
  KEYS[3] info              hash: username → '<available 0|1>|<accuracy_m or empty>'
  ARGV[1] staleBefore       ms; positions reported before it no longer count (and are deleted)
  Then per point, until ARGV ends:
  ARGV[+] lon
  ARGV[+] lat
  ARGV[+] radius            metres
  ARGV[+] limit             most responders returned
  ARGV[+] availableOnly     '1': skip responders who are not available

  Returns one list per point: flat {username, distance m, seen ms, info}, nearest first.
]]

local geo = KEYS[1]
local seen = KEYS[2]
local info = KEYS[3]
local staleBefore = ARGV[1]

--- @include "presence-prune"

pruneStale(geo, seen, info, staleBefore)
local a = 1
local function nextArg()
  a = a + 1
  return ARGV[a]
end

local out = {}
while a < #ARGV do
  local lon, lat, radius = nextArg(), nextArg(), nextArg()
  local limit = tonumber(nextArg())
  local availableOnly = nextArg() == '1'
  -- Bounded: the nearest `limit` (filtering by availability: a few times more, so that unavailable
  -- responders in between do not hide available ones; fewer found means everyone is notified).
  local count = limit
  if availableOnly then count = 4 * limit + 16 end
  local hits = redis.call('GEOSEARCH', geo, 'FROMLONLAT', lon, lat, 'BYRADIUS', radius, 'm', 'ASC', 'COUNT', count, 'WITHDIST')
  local list = {}
  for _, hit in ipairs(hits) do
    if #list >= 4 * limit then break end
    local name, dist = hit[1], hit[2]
    local at = redis.call('ZSCORE', seen, name)
    local state = redis.call('HMGET', info, name)[1] or ''
    if at and (not availableOnly or string.sub(state, 1, 1) == '1') then
      list[#list + 1] = name
      list[#list + 1] = dist
      list[#list + 1] = at
      list[#list + 1] = state
    end
  end
  out[#out + 1] = list
end
return out
