--[[
  Stores a batch of new alerts (those raised during one turn of the event loop; often just one), each one
  fully (feed entry, severity stream, state, cache, idempotency record, schedules, broadcast) or not at all.
  The alert id is the feed entry id, born here, so the state and cache keys are built from prefixes.
  An idempotency record holds `<id> <fingerprint>` (records written before fingerprints hold just the id and
  match any request), so a reused key is told apart from a retry in the same atomic step that stores.
  The id is spliced into the JSON as text: no cjson round trip on the hottest path.

  KEYS[1] feed               the feed stream; XADD mints every alert id
  KEYS[2] schedule           the escalation schedule (zset, score = escalate-at ms)
  ARGV[1] maxlen             approximate MAXLEN of the feed and severity streams
  ARGV[2] stateTtl           TTL of the state hash and the reporter index, s
  ARGV[3] cacheTtl           TTL of the cached document, s
  ARGV[4] idempotencyTtl     TTL of an idempotency record, s
  ARGV[5] statePrefix        state hash key = statePrefix .. id
  ARGV[6] cachePrefix        cache key = cachePrefix .. id
  ARGV[7] broadcastChannel   where the new alert's id is published
  ARGV[8] raisedEvent        the feed entry's `event` field (ALERT_EVENTS.raised)
  Then per alert, in arrival order, until ARGV ends:
  KEYS[+] stream             its severity stream
  KEYS[+] reporterIndex      its reporter's alerts (zset, score = created ms; newest 1000 kept)
  KEYS[+] idempotency?       its idempotency record, only when fingerprint is not ''
  ARGV[+] doc                its document as JSON without the id (starts with '{')
  ARGV[+] severity
  ARGV[+] escalateAt         ms
  ARGV[+] created            ms
  ARGV[+] alertType
  ARGV[+] reporter           the reporter's id
  ARGV[+] fingerprint        the raise input's fingerprint when it has an idempotency record, else ''
  ARGV[+] fields[]           how many strings follow, then the field/value pairs of its severity-stream entry

  Returns per alert, flat: the id, then 1 when stored, 0 when the idempotency record already named this
  alert (a retry) or 2 when it names an alert raised with a different body.
]]

local feed = KEYS[1]
local schedule = KEYS[2]
local maxlen = ARGV[1]
local stateTtl = ARGV[2]
local cacheTtl = ARGV[3]
local idempotencyTtl = ARGV[4]
local statePrefix = ARGV[5]
local cachePrefix = ARGV[6]
local broadcastChannel = ARGV[7]
local raisedEvent = ARGV[8]

-- The per-alert entries follow the fixed ones above; each is read once, in order.
local k, a = 2, 8
local function nextKey()
  k = k + 1
  return KEYS[k]
end
local function nextArg()
  a = a + 1
  return ARGV[a]
end

local out = {}
while a < #ARGV do
  local stream = nextKey()
  local reporterIndex = nextKey()
  local doc = nextArg()
  local severity = nextArg()
  local escalateAt = nextArg()
  local created = nextArg()
  local alertType = nextArg()
  local reporter = nextArg()
  local fingerprint = nextArg()
  local nfields = tonumber(nextArg())
  local firstField, lastField = a + 1, a + nfields
  a = lastField
  local idempotency = nil
  if fingerprint ~= '' then idempotency = nextKey() end

  local existing = idempotency and redis.call('GET', idempotency)
  if existing then
    local sp = string.find(existing, ' ', 1, true)
    if sp and string.sub(existing, sp + 1) ~= fingerprint then
      out[#out + 1] = string.sub(existing, 1, sp - 1)
      out[#out + 1] = 2
    else
      out[#out + 1] = sp and string.sub(existing, 1, sp - 1) or existing
      out[#out + 1] = 0
    end
  else
    local id = redis.call('XADD', feed, 'MAXLEN', '~', maxlen, '*', 'event', raisedEvent, 'severity', severity, 'data', doc)
    local json = '{"id":"' .. id .. '",' .. string.sub(doc, 2)
    redis.call('XADD', stream, 'MAXLEN', '~', maxlen, id, unpack(ARGV, firstField, lastField))
    local stateKey = statePrefix .. id
    redis.call('HSET', stateKey, 'doc', json, 'status', 'open', 'reporter', reporter)
    redis.call('EXPIRE', stateKey, stateTtl)
    redis.call('SET', cachePrefix .. id, json, 'EX', cacheTtl)
    if idempotency then redis.call('SET', idempotency, id .. ' ' .. fingerprint, 'EX', idempotencyTtl) end
    redis.call('ZADD', schedule, escalateAt, id)
    redis.call('ZADD', reporterIndex, created, id)
    redis.call('ZREMRANGEBYRANK', reporterIndex, 0, -1001)
    redis.call('EXPIRE', reporterIndex, stateTtl)
    redis.call('PUBLISH', broadcastChannel, '{"alert_id":"' .. id .. '","severity":"' .. severity .. '","type":"' .. alertType .. '"}')
    out[#out + 1] = id
    out[#out + 1] = 1
  end
end
return out
