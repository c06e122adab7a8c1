--[[
  Counts one hit on each of a batch of fixed-window counters (the counters of every request handled in one
  turn of the event loop). A counter found without an expiry (never written by this script) gets one, so no
  counter can block forever. All keys must share one hash slot on Cluster (the caller groups them).

  Per counter, in order:
  KEYS[+] counter  the counter's key
  ARGV[+] window   its window, ms

  Returns, flat, per counter: its count after this hit, then the window's remaining ms.
]]

local out = {}
for i, counter in ipairs(KEYS) do
  local window = tonumber(ARGV[i])
  local current = redis.call('INCR', counter)
  local ttl = window
  if current == 1 then
    redis.call('PEXPIRE', counter, window)
  else
    ttl = redis.call('PTTL', counter)
    if ttl < 0 then
      redis.call('PEXPIRE', counter, window)
      ttl = window
    end
  end
  out[#out + 1] = current
  out[#out + 1] = ttl
end
return out
