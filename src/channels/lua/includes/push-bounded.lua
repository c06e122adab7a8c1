--[[
  push_bounded(key, payload, capacity, ttl, now): appends one envelope to a bounded list; false when full.
  Expired envelopes sit at the head (lists keep send order), so they are dropped before a channel is
  declared full: a live consumer is never shut out by messages nobody will be given. PEXPIRE makes an
  abandoned list vanish once its newest message has expired. Envelope headers start with
  `n1:<expiresAtMs>:` (see envelope.ts): that is all a script reads of them.
]]
local function push_bounded(key, payload, capacity, ttl, now)
  local len = redis.call('LLEN', key)
  if len >= capacity then
    while len > 0 do
      local head = redis.call('LINDEX', key, 0)
      local expires = head and tonumber(string.match(head, '^n1:(%d+):'))
      if not expires or expires > now then break end
      redis.call('LPOP', key)
      len = len - 1
    end
    if len >= capacity then return false end
  end
  redis.call('RPUSH', key, payload)
  redis.call('PEXPIRE', key, ttl)
  return true
end
