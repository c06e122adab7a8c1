--[[
  Claims due escalations atomically: each due open alert is rescheduled one interval later and gets an
  `escalated` history event and feed entry, so several serve processes never escalate the same alert twice.
  Each alert is handled on its own: a stored document that cjson cannot decode or encode is taken out of the
  schedule (escalating it again would fail again) and reported, and the sweep goes on with the next one.

  KEYS[1] schedule          the escalation schedule (zset, score = escalate-at ms)
  KEYS[2] feed              the feed stream
  ARGV[1] now               ms; alerts scheduled at or before it are due
  ARGV[2] interval          ms until an escalated alert is due again
  ARGV[3] batch             most alerts claimed by one call
  ARGV[4] statePrefix       state hash key = statePrefix .. id
  ARGV[5] cachePrefix       cache key = cachePrefix .. id
  ARGV[6] cacheTtl          TTL of the cached document, s
  ARGV[7] maxlen            approximate MAXLEN of the feed
  ARGV[8] nowIso            `now` as ISO time, for the document
  ARGV[9] updatedEvent      the feed entry's `event` field (ALERT_EVENTS.updated)

  Returns {escalated docs as JSON strings, ids of the undecodable alerts dropped from the schedule}.
]]

local schedule = KEYS[1]
local feed = KEYS[2]
local now = ARGV[1]
local interval = ARGV[2]
local batch = ARGV[3]
local statePrefix = ARGV[4]
local cachePrefix = ARGV[5]
local cacheTtl = ARGV[6]
local maxlen = ARGV[7]
local nowIso = ARGV[8]
local updatedEvent = ARGV[9]

--- @include "alert-doc"

local due = redis.call('ZRANGEBYSCORE', schedule, '-inf', now, 'LIMIT', 0, batch)
local out, corrupt = {}, {}
-- Decodes, updates and re-encodes one document without writing; nil when cjson cannot handle it.
local function escalated(raw)
  local doc = decodeDoc(raw)
  if not doc then return nil end
  local n = (tonumber(doc['escalations']) or 0) + 1
  doc['escalations'] = n
  doc['updated_at'] = nowIso
  table.insert(doc['history'], {event = 'escalated', at = nowIso, level = n})
  local json = encodeDoc(doc)
  if not json then return nil end
  return json, doc['severity']
end
for _, id in ipairs(due) do
  local key = statePrefix .. id
  local status = redis.call('HGET', key, 'status')
  if status ~= 'open' then
    redis.call('ZREM', schedule, id)
  else
    local json, severity = escalated(redis.call('HGET', key, 'doc'))
    if not json or type(severity) ~= 'string' then
      redis.call('ZREM', schedule, id)
      corrupt[#corrupt + 1] = id
    else
      redis.call('ZADD', schedule, tonumber(now) + tonumber(interval), id)
      redis.call('HSET', key, 'doc', json)
      redis.call('XADD', feed, 'MAXLEN', '~', maxlen, '*', 'event', updatedEvent, 'alert', id, 'severity', severity, 'data', json)
      redis.call('SET', cachePrefix .. id, json, 'EX', cacheTtl)
      out[#out + 1] = json
    end
  end
end
return {out, corrupt}
