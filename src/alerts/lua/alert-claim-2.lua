--[[
  Claims an alert for one responder, or gives a claim up, atomically: the check of who holds it, the
  assignee, the history events, the feed entry and the cache refresh happen together, so of two responders
  claiming at once exactly one gets it. Claiming an open alert also acknowledges it (and takes it out of the
  escalation schedule), as ack does.

  KEYS[1] feed              the feed stream
  KEYS[2] schedule          the escalation schedule
  ARGV[1] statePrefix       state hash key = statePrefix .. id
  ARGV[2] id                the alert id
  ARGV[3] mode              'claim' | 'unclaim'
  ARGV[4] actorId           who claims (or gives up)
  ARGV[5] assignee          claim: the assignee object, JSON ({id, username, at, distance_m}); unclaim: ''
  ARGV[6] historyEvents     the history events to append, JSON array: claim [claimed, acknowledged], unclaim [unclaimed]
  ARGV[7] override          unclaim: '1' when the actor may take anyone's claim away (an admin), else ''
  ARGV[8] updatedAt         ISO time
  ARGV[9] maxlen            approximate MAXLEN of the feed
  ARGV[10] cachePrefix      cache key = cachePrefix .. id
  ARGV[11] cacheTtl         TTL of the cached document, s
  ARGV[12] updatedEvent     the feed entry's `event` field (ALERT_EVENTS.updated)
  ARGV[13] ackStatus        the status an open alert moves to when claimed ('acknowledged')

  Returns {'ok', doc JSON, feed id} | {'same', doc JSON} (already claimed by the actor: nothing written) |
  {'missing'} | {'conflict', status} (resolved or cancelled) | {'claimed', assignee JSON} (someone else holds
  it) | {'unclaimed'} (unclaim of an alert nobody holds) | {'forbidden'} (unclaim of another's claim) |
  {'corrupt'} when the stored document cannot be decoded or encoded (nothing is changed).
]]

local feed = KEYS[1]
local schedule = KEYS[2]
local statePrefix = ARGV[1]
local id = ARGV[2]
local mode = ARGV[3]
local actorId = ARGV[4]
local assignee = ARGV[5]
local historyEvents = ARGV[6]
local override = ARGV[7]
local updatedAt = ARGV[8]
local maxlen = ARGV[9]
local cachePrefix = ARGV[10]
local cacheTtl = ARGV[11]
local updatedEvent = ARGV[12]
local ackStatus = ARGV[13]

--- @include "alert-doc"

local key = statePrefix .. id
local status = redis.call('HGET', key, 'status')
if not status then return {'missing'} end
if status ~= 'open' and status ~= ackStatus then return {'conflict', status} end
local doc = decodeDoc(redis.call('HGET', key, 'doc'))
if not doc then return {'corrupt'} end
local current = doc['assignee']
if type(current) ~= 'table' then current = nil end

local events = cjson.decode(historyEvents)
if mode == 'claim' then
  if current then
    if current['id'] == actorId then return {'same', redis.call('HGET', key, 'doc')} end
    return {'claimed', cjson.encode({id = current['id'], username = current['username'], at = current['at']})}
  end
  doc['assignee'] = cjson.decode(assignee)
  table.insert(doc['history'], events[1])
  if status == 'open' then
    status = ackStatus
    doc['status'] = ackStatus
    table.insert(doc['history'], events[2])
    redis.call('ZREM', schedule, id)
  end
else
  if not current then return {'unclaimed'} end
  if current['id'] ~= actorId and override ~= '1' then return {'forbidden'} end
  doc['assignee'] = nil
  table.insert(doc['history'], events[1])
end
doc['updated_at'] = updatedAt
local json = encodeDoc(doc)
if not json then return {'corrupt'} end
redis.call('HSET', key, 'doc', json, 'status', status)
local fid = redis.call('XADD', feed, 'MAXLEN', '~', maxlen, '*', 'event', updatedEvent, 'alert', id, 'severity', doc['severity'], 'data', json)
redis.call('SET', cachePrefix .. id, json, 'EX', cacheTtl)
return {'ok', json, fid}
