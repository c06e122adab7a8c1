/**
 * The alert scripts: each runs as the realtime role in one round trip and is atomic, so an alert is
 * either fully stored (feed entry, severity stream, state, cache, idempotency record, schedules) or not at
 * all, and a lifecycle change can never race another one.
 *
 * The alert id is the feed entry id, born inside the ingest script: the state and cache keys are therefore
 * built there from prefixes that come from the key module (see keys.ts `statePrefix`). On Cluster every
 * one of these keys carries the `{panic}` hash tag, so they share a slot.
 */
import { LuaScript } from '../redis/script.js';

/**
 * Stores a batch of new alerts (the alerts raised during one turn of the event loop; often just one).
 * KEYS: feed, escalation schedule, then per alert: its severity stream, its reporter index and, when the
 *       request carried an Idempotency-Key, its idempotency record.
 * ARGV: maxlen, state TTL s, cache TTL s, idempotency TTL s, state prefix, cache prefix, broadcast channel,
 *       alert count; then per alert: doc JSON (no id; starts with '{'), severity, escalate-at ms, created ms,
 *       alert type, reporter id, the fingerprint of the raise input when it has an idempotency record else '',
 *       n, then n strings: the field/value pairs of its severity-stream entry.
 * The idempotency record holds `<id> <fingerprint>` (records written before fingerprints hold just the id and
 * match any request), so a reused key is told apart from a retry in the same atomic step that stores.
 * Returns per alert, flat: id, then 1 when stored, 0 when the idempotency record already named this alert
 * (a retry) or 2 when it names an alert raised with a different body.
 * The id is spliced into the JSON as text: no cjson round trip on the hottest path.
 */
export const INGEST = new LuaScript(
  'alert-ingest',
  `
local maxlen, stateTtl, cacheTtl, idemTtl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local statePrefix, cachePrefix, channel = ARGV[5], ARGV[6], ARGV[7]
local a, k = 9, 3
local out = {}
for _ = 1, tonumber(ARGV[8]) do
  local doc, severity, escalateAt, created, alertType, reporter = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local fingerprint, nfields = ARGV[a + 6], tonumber(ARGV[a + 7])
  local fields = a + 8
  a = fields + nfields
  local streamKey, reporterKey, idemKey = KEYS[k], KEYS[k + 1], nil
  k = k + 2
  if fingerprint ~= '' then
    idemKey = KEYS[k]
    k = k + 1
  end
  local existing = idemKey and redis.call('GET', idemKey)
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
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'event', 'alert.created', 'severity', severity, 'data', doc)
    local json = '{"id":"' .. id .. '",' .. string.sub(doc, 2)
    redis.call('XADD', streamKey, 'MAXLEN', '~', maxlen, id, unpack(ARGV, fields, a - 1))
    local stateKey = statePrefix .. id
    redis.call('HSET', stateKey, 'doc', json, 'status', 'open', 'reporter', reporter)
    redis.call('EXPIRE', stateKey, stateTtl)
    redis.call('SET', cachePrefix .. id, json, 'EX', cacheTtl)
    if idemKey then redis.call('SET', idemKey, id .. ' ' .. fingerprint, 'EX', idemTtl) end
    redis.call('ZADD', KEYS[2], escalateAt, id)
    redis.call('ZADD', reporterKey, created, id)
    redis.call('ZREMRANGEBYRANK', reporterKey, 0, -1001)
    redis.call('EXPIRE', reporterKey, stateTtl)
    redis.call('PUBLISH', channel, '{"alert_id":"' .. id .. '","severity":"' .. severity .. '","type":"' .. alertType .. '"}')
    out[#out + 1] = id
    out[#out + 1] = 1
  end
end
return out
`,
);

/**
 * KEYS: feed, escalation schedule
 * ARGV: state prefix, alert id, target status, allowed-from (comma list), history event JSON, updated_at,
 *       maxlen, cache prefix, cache TTL s, required reporter id ('' = anyone)
 * Returns {'ok', doc JSON, feed id} | {'missing'} | {'forbidden'} | {'conflict', current status} |
 *         {'corrupt'} when the stored document cannot be decoded or encoded (nothing is changed).
 */
export const TRANSITION = new LuaScript(
  'alert-transition',
  `
local key = ARGV[1] .. ARGV[2]
local status = redis.call('HGET', key, 'status')
if not status then return {'missing'} end
if ARGV[10] ~= '' and redis.call('HGET', key, 'reporter') ~= ARGV[10] then return {'forbidden'} end
local allowed = false
for s in string.gmatch(ARGV[4], '[^,]+') do
  if s == status then allowed = true end
end
if not allowed then return {'conflict', status} end
-- Decode and re-encode before any write: a document cjson cannot handle is reported, never half-applied.
local okDoc, doc = pcall(cjson.decode, redis.call('HGET', key, 'doc') or '')
if not okDoc or type(doc) ~= 'table' or type(doc['history']) ~= 'table' then return {'corrupt'} end
doc['status'] = ARGV[3]
doc['updated_at'] = ARGV[6]
table.insert(doc['history'], cjson.decode(ARGV[5]))
local okJson, json = pcall(cjson.encode, doc)
if not okJson then return {'corrupt'} end
redis.call('HSET', key, 'doc', json, 'status', ARGV[3])
if ARGV[3] ~= 'open' then redis.call('ZREM', KEYS[2], ARGV[2]) end
local fid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[7], '*', 'event', 'alert.updated', 'alert', ARGV[2], 'severity', doc['severity'], 'data', json)
redis.call('SET', ARGV[8] .. ARGV[2], json, 'EX', ARGV[9])
return {'ok', json, fid}
`,
);

/**
 * Claims due escalations atomically: each due open alert is rescheduled one interval later and gets an
 * `escalated` history event and feed entry, so several serve processes never escalate the same alert twice.
 * Each alert is handled on its own: a stored document that cjson cannot decode or encode is taken out of the
 * schedule (escalating it again would fail again) and reported, and the sweep goes on with the next one.
 * KEYS: escalation schedule, feed
 * ARGV: now ms, interval ms, batch size, state prefix, cache prefix, cache TTL s, maxlen, now ISO
 * Returns {escalated docs as JSON strings, ids of the undecodable alerts dropped from the schedule}.
 */
export const ESCALATE = new LuaScript(
  'alert-escalate',
  `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out, corrupt = {}, {}
-- Decodes, updates and re-encodes one document without writing; nil when cjson cannot handle it.
local function escalated(raw)
  local ok, doc = pcall(cjson.decode, raw or '')
  if not ok or type(doc) ~= 'table' or type(doc['history']) ~= 'table' then return nil end
  local n = (tonumber(doc['escalations']) or 0) + 1
  doc['escalations'] = n
  doc['updated_at'] = ARGV[8]
  table.insert(doc['history'], {event = 'escalated', at = ARGV[8], level = n})
  local okJson, json = pcall(cjson.encode, doc)
  if not okJson then return nil end
  return json, doc['severity']
end
for _, id in ipairs(due) do
  local key = ARGV[4] .. id
  local status = redis.call('HGET', key, 'status')
  if status ~= 'open' then
    redis.call('ZREM', KEYS[1], id)
  else
    local json, severity = escalated(redis.call('HGET', key, 'doc'))
    if not json or type(severity) ~= 'string' then
      redis.call('ZREM', KEYS[1], id)
      corrupt[#corrupt + 1] = id
    else
      redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
      redis.call('HSET', key, 'doc', json)
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'event', 'alert.updated', 'alert', id, 'severity', severity, 'data', json)
      redis.call('SET', ARGV[5] .. id, json, 'EX', ARGV[6])
      out[#out + 1] = json
    end
  end
end
return {out, corrupt}
`,
);
