--[[
  Reads fresh presence after pruning the stale (same step): every responder, or one.

  KEYS[1] geo               GEO set: username → position
  KEYS[2] seen              sorted set: username → when the position was reported (ms)
  KEYS[3] info              hash: username → '<available 0|1>|<accuracy_m or empty>'
  ARGV[1] staleBefore       ms; positions reported before it no longer count (and are deleted)
  ARGV[2] username          '' for every responder

  Returns flat {username, lon, lat, seen ms, info} per responder, oldest report first.
]]

local geo = KEYS[1]
local seen = KEYS[2]
local info = KEYS[3]
local staleBefore = ARGV[1]
local username = ARGV[2]

--- @include "presence-prune"

pruneStale(geo, seen, info, staleBefore)
local names, scores = {}, {}
if username ~= '' then
  local at = redis.call('ZSCORE', seen, username)
  if not at then return {} end
  names[1], scores[1] = username, at
else
  local flat = redis.call('ZRANGEBYSCORE', seen, staleBefore, '+inf', 'WITHSCORES')
  for i = 1, #flat, 2 do
    names[#names + 1] = flat[i]
    scores[#scores + 1] = flat[i + 1]
  end
end
if #names == 0 then return {} end
local positions = chunked('GEOPOS', geo, names)
local infos = chunked('HMGET', info, names)
local out = {}
for i, name in ipairs(names) do
  local pos = positions[i]
  if type(pos) == 'table' and pos[1] then
    out[#out + 1] = name
    out[#out + 1] = pos[1]
    out[#out + 1] = pos[2]
    out[#out + 1] = scores[i]
    out[#out + 1] = infos[i] or ''
  end
end
return out
