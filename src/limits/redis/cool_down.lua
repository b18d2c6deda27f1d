-- Starts or extends a brand cool-down for a person; never shortens one.
--
-- KEYS: 1 the person's limiter hash (claim.lua describes its fields)
-- ARGV: 1 brand, 2 duration (ms, > 0), 3 now in ms ('' = Redis TIME)
-- Returns 1 when the cool-down was set or extended, 0 when a longer one was running.

local function int(n) return string.format('%d', n) end

local now
if ARGV[3] ~= '' then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local key, field = KEYS[1], 'cd:' .. ARGV[1]
local until_ms = now + tonumber(ARGV[2])
local got = redis.call('HMGET', key, field, 'hz')
if tonumber(got[1] or '-1') >= until_ms then return 0 end

-- The end is stored (not only a TTL) so the claim compares it with the same clock.
local horizon = tonumber(got[2] or '0')
if until_ms > horizon then
  -- A day of slack, as in claim.lua, so later writes rarely renew the expiry.
  local new_horizon = until_ms + 86400000
  redis.call('HSET', key, field, int(until_ms), 'hz', int(new_horizon))
  redis.call('PEXPIRE', key, int(new_horizon - now))
else
  redis.call('HSET', key, field, int(until_ms))
end
return 1
