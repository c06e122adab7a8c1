--[[
  Adds one event to a stored alert's history right after its `raised` event (ARGV `after`), atomically, with no feed entry:
  the dispatch step, decided while the alert was being stored (so that a slow presence lookup never delays
  storing and announcing it). The cached document is refreshed; nothing else changes (not `updated_at`: the
  alert itself did not change).

  KEYS[1] feed              the feed stream (only to name the slot the alert's keys live in)
  ARGV[1] statePrefix       state hash key = statePrefix .. id
  ARGV[2] id                the alert id
  ARGV[3] after             the history event it goes right after (`raised`); at the end when there is none
  ARGV[4] historyEvent      the history event to add, JSON
  ARGV[5] cachePrefix       cache key = cachePrefix .. id
  ARGV[6] cacheTtl          TTL of the cached document, s

  Returns {'ok', doc JSON} | {'missing'} | {'corrupt'} when the stored document cannot be decoded or encoded
  (nothing is changed).
]]

-- The feed only names the slot: the state and cache keys share its hash tag on a cluster.
local feed = KEYS[1]
local statePrefix = ARGV[1]
local id = ARGV[2]
local after = ARGV[3]
local historyEvent = ARGV[4]
local cachePrefix = ARGV[5]
local cacheTtl = ARGV[6]

--- @include "alert-doc"

local key = statePrefix .. id
local raw = redis.call('HGET', key, 'doc')
if not raw then return {'missing'} end
-- Decode and re-encode before any write: a document cjson cannot handle is reported, never half-applied.
local doc = decodeDoc(raw)
if not doc then return {'corrupt'} end
local history = doc['history']
local at = #history + 1
for i, e in ipairs(history) do
  if type(e) == 'table' and e['event'] == after then
    at = i + 1
    break
  end
end
table.insert(history, at, cjson.decode(historyEvent))
local json = encodeDoc(doc)
if not json then return {'corrupt'} end
redis.call('HSET', key, 'doc', json)
redis.call('SET', cachePrefix .. id, json, 'EX', cacheTtl)
return {'ok', json}
