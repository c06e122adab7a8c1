--[[
  Appends one message to an alert's thread, atomically with its feed entry: the message id is the feed entry
  id (minted here), the thread is a stream next to the alert's state (same hash tag on Cluster) holding the
  same ids, bounded: a full thread refuses the message and writes nothing. The message is spliced in as text.

  KEYS[1] feed              the feed stream
  KEYS[2] thread            the alert's thread stream
  ARGV[1] statePrefix       state hash key = statePrefix .. id (the alert must still exist)
  ARGV[2] id                the alert id
  ARGV[3] max               messages a thread holds at most
  ARGV[4] message           the message as JSON without its id (starts with '{')
  ARGV[5] severity          the alert's severity (the feed entry's, for the live fan-out)
  ARGV[6] reporter          the alert's reporter id (members see messages of their own alerts)
  ARGV[7] ttl               TTL of the thread, s (the alert state's)
  ARGV[8] maxlen            approximate MAXLEN of the feed
  ARGV[9] messageEvent      the feed entry's `event` field (MESSAGE_EVENT)

  Returns {'ok', message JSON, feed id} | {'missing'} | {'full', count}.
]]

local feed = KEYS[1]
local thread = KEYS[2]
local statePrefix = ARGV[1]
local id = ARGV[2]
local max = tonumber(ARGV[3])
local message = ARGV[4]
local severity = ARGV[5]
local reporter = ARGV[6]
local ttl = ARGV[7]
local maxlen = ARGV[8]
local messageEvent = ARGV[9]

if not redis.call('HGET', statePrefix .. id, 'status') then return {'missing'} end
local n = redis.call('XLEN', thread)
if n >= max then return {'full', n} end
-- The id is known only once XADD minted it; the feed entry carries the message without it (the entry id is it).
local fid = redis.call('XADD', feed, 'MAXLEN', '~', maxlen, '*', 'event', messageEvent, 'alert', id, 'severity', severity, 'reporter', reporter, 'data', message)
local json = '{"id":"' .. fid .. '",' .. string.sub(message, 2)
redis.call('XADD', thread, fid, 'm', json)
redis.call('EXPIRE', thread, ttl)
return {'ok', json, fid}
