-- Shared by the presence scripts (included, not run on its own). `chunked` calls a variadic command in
-- slices (Lua's unpack has a stack limit); `pruneStale` drops every responder whose last report is older
-- than `staleBefore` (ms) from the last-seen set, the GEO set and the availability hash, and returns how many.
local function chunked(cmd, key, list)
  local out = {}
  for i = 1, #list, 500 do
    local slice = {}
    for j = i, math.min(i + 499, #list) do slice[#slice + 1] = list[j] end
    local r = redis.call(cmd, key, unpack(slice))
    if type(r) == 'table' then
      for _, v in ipairs(r) do out[#out + 1] = v end
    end
  end
  return out
end

local function pruneStale(geo, seen, info, staleBefore)
  local stale = redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. staleBefore)
  if #stale == 0 then return 0 end
  chunked('ZREM', geo, stale)
  chunked('HDEL', info, stale)
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. staleBefore)
  return #stale
end
