--[[
  Moves an open or acknowledged alert to a newer location reported by its reporter, atomically: the checks,
  the new `location`, a `located` history event, the feed entry (pushed live) and the cache refresh happen
  together. The history keeps at most `maxLocated` located events (the oldest go first); every other event
  is kept, so the lifecycle is never lost to a chatty phone.

  KEYS[1] feed              the feed stream
  ARGV[1] statePrefix       state hash key = statePrefix .. id
  ARGV[2] id                the alert id
  ARGV[3] reporter          the reporter id the alert must have
  ARGV[4] from              the statuses it may be updated in, comma-separated
  ARGV[5] location          the new location, JSON
  ARGV[6] historyEvent      the `located` history event to append, JSON
  ARGV[7] locatedEvent      the history event name (`located`), to count and bound them
  ARGV[8] maxLocated        how many located events the history keeps
  ARGV[9] updatedAt         ISO time
  ARGV[10] maxlen           approximate MAXLEN of the feed
  ARGV[11] cachePrefix      cache key = cachePrefix .. id
  ARGV[12] cacheTtl         TTL of the cached document, s
  ARGV[13] updatedEvent     the feed entry's `event` field (ALERT_EVENTS.updated)

  Returns {'ok', doc JSON, feed id} | {'missing'} | {'forbidden'} | {'conflict', current status} |
  {'corrupt'} when the stored document cannot be decoded or encoded (nothing is changed).
]]

local feed = KEYS[1]
local statePrefix = ARGV[1]
local id = ARGV[2]
local reporter = ARGV[3]
local from = ARGV[4]
local location = ARGV[5]
local historyEvent = ARGV[6]
local locatedEvent = ARGV[7]
local maxLocated = tonumber(ARGV[8])
local updatedAt = ARGV[9]
local maxlen = ARGV[10]
local cachePrefix = ARGV[11]
local cacheTtl = ARGV[12]
local updatedEvent = ARGV[13]

--- @include "alert-doc"
--- @include "status-in"

local key = statePrefix .. id
local status = redis.call('HGET', key, 'status')
if not status then return {'missing'} end
if redis.call('HGET', key, 'reporter') ~= reporter then return {'forbidden'} end
if not statusIn(status, from) then return {'conflict', status} end
-- Decode and re-encode before any write: a document cjson cannot handle is reported, never half-applied.
local doc = decodeDoc(redis.call('HGET', key, 'doc'))
if not doc then return {'corrupt'} end
doc['location'] = cjson.decode(location)
doc['updated_at'] = updatedAt
local history = doc['history']
table.insert(history, cjson.decode(historyEvent))
local located = 0
for _, e in ipairs(history) do
  if type(e) == 'table' and e['event'] == locatedEvent then located = located + 1 end
end
local i = 1
while located > maxLocated and i <= #history do
  local e = history[i]
  if type(e) == 'table' and e['event'] == locatedEvent then
    table.remove(history, i)
    located = located - 1
  else
    i = i + 1
  end
end
local json = encodeDoc(doc)
if not json then return {'corrupt'} end
redis.call('HSET', key, 'doc', json)
local fid = redis.call('XADD', feed, 'MAXLEN', '~', maxlen, '*', 'event', updatedEvent, 'alert', id, 'severity', doc['severity'], 'data', json)
redis.call('SET', cachePrefix .. id, json, 'EX', cacheTtl)
return {'ok', json, fid}
