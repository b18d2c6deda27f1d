-- Starts or extends a brand cool-down for a person; never shortens one.
--
-- KEYS: 1 cool-down key (holds the end in ms), 2 index of the person's keys
-- ARGV: 1 duration (ms, > 0), 2 now in ms ('' = Redis TIME)
-- Returns 1 when the cool-down was set or extended, 0 when a longer one was running.

local function int(n) return string.format('%d', n) end

local now
if ARGV[2] ~= '' then
  now = tonumber(ARGV[2])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local duration = tonumber(ARGV[1])
local until_ms = now + duration
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if current >= until_ms then return 0 end

-- The end is stored (not only the TTL) so the claim compares it with the same clock.
redis.call('SET', KEYS[1], int(until_ms), 'PX', int(duration))
redis.call('ZADD', KEYS[2], 'GT', int(until_ms), KEYS[1])
if redis.call('PTTL', KEYS[2]) < duration then redis.call('PEXPIRE', KEYS[2], int(duration)) end
return 1
