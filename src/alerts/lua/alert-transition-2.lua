--[[
  Applies one lifecycle transition atomically: the status check, the history event, the feed entry and the
  cache refresh happen together, so two responders cannot both acknowledge.

  KEYS[1] feed              the feed stream
  KEYS[2] schedule          the escalation schedule (left when the alert is no longer open)
  ARGV[1] statePrefix       state hash key = statePrefix .. id
  ARGV[2] id                the alert id
  ARGV[3] to                the target status
  ARGV[4] from              the statuses it may be left from, comma-separated
  ARGV[5] historyEvent      the history event to append, JSON
  ARGV[6] updatedAt         ISO time
  ARGV[7] maxlen            approximate MAXLEN of the feed
  ARGV[8] cachePrefix       cache key = cachePrefix .. id
  ARGV[9] cacheTtl          TTL of the cached document, s
  ARGV[10] reporterOnly     the reporter id the alert must have, '' = anyone
  ARGV[11] updatedEvent     the feed entry's `event` field (ALERT_EVENTS.updated)

  Returns {'ok', doc JSON, feed id} | {'missing'} | {'forbidden'} | {'conflict', current status} |
  {'corrupt'} when the stored document cannot be decoded or encoded (nothing is changed).
]]

local feed = KEYS[1]
local schedule = KEYS[2]
local statePrefix = ARGV[1]
local id = ARGV[2]
local to = ARGV[3]
local from = ARGV[4]
local historyEvent = ARGV[5]
local updatedAt = ARGV[6]
local maxlen = ARGV[7]
local cachePrefix = ARGV[8]
local cacheTtl = ARGV[9]
local reporterOnly = ARGV[10]
local updatedEvent = ARGV[11]

--- @include "alert-doc"
--- @include "status-in"

local key = statePrefix .. id
local status = redis.call('HGET', key, 'status')
if not status then return {'missing'} end
if reporterOnly ~= '' and redis.call('HGET', key, 'reporter') ~= reporterOnly then return {'forbidden'} end
if not statusIn(status, from) then return {'conflict', status} end
-- Decode and re-encode before any write: a document cjson cannot handle is reported, never half-applied.
local doc = decodeDoc(redis.call('HGET', key, 'doc'))
if not doc then return {'corrupt'} end
doc['status'] = to
doc['updated_at'] = updatedAt
table.insert(doc['history'], cjson.decode(historyEvent))
local json = encodeDoc(doc)
if not json then return {'corrupt'} end
redis.call('HSET', key, 'doc', json, 'status', to)
if to ~= 'open' then redis.call('ZREM', schedule, id) end
local fid = redis.call('XADD', feed, 'MAXLEN', '~', maxlen, '*', 'event', updatedEvent, 'alert', id, 'severity', doc['severity'], 'data', json)
redis.call('SET', cachePrefix .. id, json, 'EX', cacheTtl)
return {'ok', json, fid}
