--[[
  Stores a batch of new alerts (those raised during one turn of the event loop; often just one), each one
  fully (feed entry, severity stream, state, cache, idempotency record, schedules, broadcast) or not at all.
  The alert id is the feed entry id, born here, so the state and cache keys are built from prefixes.
  An idempotency record holds `<id> <fingerprint>` (records written before fingerprints hold just the id and
  match any request), so a reused key is told apart from a retry in the same atomic step that stores.
  The id is spliced into the JSON as text: no cjson round trip on the hottest path.
  Related alerts: a new alert raised within relatedRadius metres (haversine) and relatedWindow ms of an open or
  acknowledged alert is linked both ways — its own document lists the older ids (`related`, in its feed entry
  too, so every board links the two live), and each older one gets the new id in its stored state and a fresh
  cache, but no feed entry of its own: in a burst at one spot (neighbours pressing for one fire) that would
  multiply every board's frames. The candidates are the newest relatedScan entries of the recent-alerts zset
  within the window; nothing is merged or dropped. A new alert links to at most relatedLinks of them (the
  newest); a document lists at most maxRelated ids, and an older alert whose list is full (or whose document
  cjson cannot handle) is not linked.

  KEYS[1] feed               the feed stream; XADD mints every alert id
  KEYS[2] schedule           the escalation schedule (zset, score = escalate-at ms)
  KEYS[3] recent             recently raised alerts (zset, score = created ms, member `<id> <lat> <lon>`; written
                             only while linking is on)
  ARGV[1] maxlen             approximate MAXLEN of the feed and severity streams
  ARGV[2] stateTtl           TTL of the state hash and the reporter index, s
  ARGV[3] cacheTtl           TTL of the cached document, s
  ARGV[4] idempotencyTtl     TTL of an idempotency record, s
  ARGV[5] statePrefix        state hash key = statePrefix .. id
  ARGV[6] cachePrefix        cache key = cachePrefix .. id
  ARGV[7] broadcastChannel   where the new alert's id is published
  ARGV[8] raisedEvent        the feed entry's `event` field (ALERT_EVENTS.raised)
  ARGV[9] relatedRadius     metres; 0 links nothing
  ARGV[10] relatedWindow     ms; 0 links nothing
  ARGV[11] relatedScan       most recent alerts looked at per new alert
  ARGV[12] relatedLinks      most older alerts one new alert is linked to
  ARGV[13] maxRelated        most ids one document lists
  ARGV[14] recentKeep        entries the recent-alerts zset keeps
  ARGV[15] nowIso            the older alert's new `updated_at` when it is linked
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
  ARGV[+] lat                its latitude ('' for an address-only alert: it is neither linked nor a link target)
  ARGV[+] lon                its longitude ('' likewise)
  ARGV[+] fingerprint        the raise input's fingerprint when it has an idempotency record, else ''
  ARGV[+] fields[]           how many strings follow, then the field/value pairs of its severity-stream entry

  Returns per alert, flat: the id, then 1 when stored, 0 when the idempotency record already named this
  alert (a retry) or 2 when it names an alert raised with a different body, then the related ids it was
  linked to, comma-separated ('' for none, and for a retry or a mismatch).
]]

local feed = KEYS[1]
local schedule = KEYS[2]
local recent = KEYS[3]
local maxlen = ARGV[1]
local stateTtl = ARGV[2]
local cacheTtl = ARGV[3]
local idempotencyTtl = ARGV[4]
local statePrefix = ARGV[5]
local cachePrefix = ARGV[6]
local broadcastChannel = ARGV[7]
local raisedEvent = ARGV[8]
local relatedRadius = tonumber(ARGV[9])
local relatedWindow = tonumber(ARGV[10])
local relatedScan = tonumber(ARGV[11])
local relatedLinks = tonumber(ARGV[12])
local maxRelated = tonumber(ARGV[13])
local recentKeep = tonumber(ARGV[14])
local nowIso = ARGV[15]
-- Linking is off when either bound is 0: nothing is looked up, and the recent-alerts index is not written.
local linking = relatedRadius > 0 and relatedWindow > 0

--- @include "alert-doc"

-- Great-circle distance in metres.
local function distance(lat1, lon1, lat2, lon2)
  local r = math.pi / 180
  local dLat, dLon = (lat2 - lat1) * r, (lon2 - lon1) * r
  local h = math.sin(dLat / 2) ^ 2 + math.cos(lat1 * r) * math.cos(lat2 * r) * math.sin(dLon / 2) ^ 2
  return 2 * 6371008.8 * math.asin(math.min(1, math.sqrt(h)))
end

-- The open or acknowledged alerts near (lat, lon) raised within the window before `created`, newest first,
-- each with its decoded document (read only: nothing is written here).
local function nearby(lat, lon, created)
  local found = {}
  if not linking then return found end
  local members = redis.call('ZRANGE', recent, '+inf', created - relatedWindow, 'BYSCORE', 'REV', 'LIMIT', 0, relatedScan)
  for _, member in ipairs(members) do
    if #found >= relatedLinks then break end
    local oid, olat, olon = string.match(member, '^(%S+) (%S+) (%S+)$')
    olat, olon = tonumber(olat), tonumber(olon)
    if oid and olat and olon and distance(lat, lon, olat, olon) <= relatedRadius then
      local okey = statePrefix .. oid
      local status = redis.call('HGET', okey, 'status')
      if status == 'open' or status == 'acknowledged' then
        local odoc = decodeDoc(redis.call('HGET', okey, 'doc'))
        if odoc and type(odoc['severity']) == 'string' then
          local list = odoc['related']
          if type(list) ~= 'table' then list = {} end
          if #list < maxRelated then found[#found + 1] = {id = oid, key = okey, doc = odoc, list = list} end
        end
      end
    end
  end
  return found
end

-- The per-alert entries follow the fixed ones above; each is read once, in order.
local k, a = 3, 15
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
  local lat = tonumber(nextArg())
  local lon = tonumber(nextArg())
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
    out[#out + 1] = ''
  else
    local near = {}
    if lat and lon then near = nearby(lat, lon, tonumber(created)) end
    local relatedIds = {}
    if #near > 0 then
      local quoted = {}
      for i, o in ipairs(near) do
        relatedIds[i] = o.id
        quoted[i] = '"' .. o.id .. '"'
      end
      doc = '{"related":[' .. table.concat(quoted, ',') .. '],' .. string.sub(doc, 2)
    end
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
    for _, o in ipairs(near) do
      table.insert(o.list, id)
      o.doc['related'] = o.list
      o.doc['updated_at'] = nowIso
      local ojson = encodeDoc(o.doc)
      if ojson then
        redis.call('HSET', o.key, 'doc', ojson)
        redis.call('SET', cachePrefix .. o.id, ojson, 'EX', cacheTtl)
      end
    end
    -- Only while linking is on: switched on later, it starts from an empty window.
    if lat and lon and linking then
      redis.call('ZADD', recent, created, id .. ' ' .. lat .. ' ' .. lon)
      redis.call('ZREMRANGEBYRANK', recent, 0, -recentKeep - 1)
    end
    redis.call('PUBLISH', broadcastChannel, '{"alert_id":"' .. id .. '","severity":"' .. severity .. '","type":"' .. alertType .. '"}')
    out[#out + 1] = id
    out[#out + 1] = 1
    out[#out + 1] = table.concat(relatedIds, ',')
  end
end
return out
