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
 * KEYS: feed, severity stream, escalation schedule, reporter index[, idempotency record]
 * ARGV: doc JSON (no id; starts with '{'), severity, maxlen, state TTL s, cache TTL s, idempotency TTL s,
 *       escalate-at ms, created ms, state prefix, cache prefix, broadcast channel, alert type, reporter id,
 *       then field/value pairs for the severity stream.
 * Returns {id, 1} when stored, {id, 0} when the idempotency record already named an alert.
 * The id is spliced into the JSON as text: no cjson round trip on the hottest path.
 */
export const INGEST = new LuaScript(
  'alert-ingest',
  `
local idemKey = KEYS[5]
if idemKey then
  local existing = redis.call('GET', idemKey)
  if existing then return {existing, 0} end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'event', 'alert.created', 'severity', ARGV[2], 'data', ARGV[1])
local json = '{"id":"' .. id .. '",' .. string.sub(ARGV[1], 2)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], id, unpack(ARGV, 14))
local stateKey = ARGV[9] .. id
redis.call('HSET', stateKey, 'doc', json, 'status', 'open', 'reporter', ARGV[13])
redis.call('EXPIRE', stateKey, ARGV[4])
redis.call('SET', ARGV[10] .. id, json, 'EX', ARGV[5])
if idemKey then redis.call('SET', idemKey, id, 'EX', ARGV[6]) end
redis.call('ZADD', KEYS[3], ARGV[7], id)
redis.call('ZADD', KEYS[4], ARGV[8], id)
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -1001)
redis.call('EXPIRE', KEYS[4], ARGV[4])
redis.call('PUBLISH', ARGV[11], '{"alert_id":"' .. id .. '","severity":"' .. ARGV[2] .. '","type":"' .. ARGV[12] .. '"}')
return {id, 1}
`,
);

/**
 * KEYS: feed, escalation schedule
 * ARGV: state prefix, alert id, target status, allowed-from (comma list), history event JSON, updated_at,
 *       maxlen, cache prefix, cache TTL s, required reporter id ('' = anyone)
 * Returns {'ok', doc JSON, feed id} | {'missing'} | {'forbidden'} | {'conflict', current status}.
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
local doc = cjson.decode(redis.call('HGET', key, 'doc'))
doc['status'] = ARGV[3]
doc['updated_at'] = ARGV[6]
table.insert(doc['history'], cjson.decode(ARGV[5]))
local json = cjson.encode(doc)
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
 * KEYS: escalation schedule, feed
 * ARGV: now ms, interval ms, batch size, state prefix, cache prefix, cache TTL s, maxlen, now ISO
 * Returns the escalated docs as JSON strings.
 */
export const ESCALATE = new LuaScript(
  'alert-escalate',
  `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out = {}
for _, id in ipairs(due) do
  local key = ARGV[4] .. id
  local status = redis.call('HGET', key, 'status')
  if status ~= 'open' then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
    local doc = cjson.decode(redis.call('HGET', key, 'doc'))
    local n = (doc['escalations'] or 0) + 1
    doc['escalations'] = n
    doc['updated_at'] = ARGV[8]
    table.insert(doc['history'], {event = 'escalated', at = ARGV[8], level = n})
    local json = cjson.encode(doc)
    redis.call('HSET', key, 'doc', json)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'event', 'alert.updated', 'alert', id, 'severity', doc['severity'], 'data', json)
    redis.call('SET', ARGV[5] .. id, json, 'EX', ARGV[6])
    out[#out + 1] = json
  end
end
return out
`,
);
