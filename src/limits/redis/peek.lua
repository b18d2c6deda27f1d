-- Reads (never writes) what a claim would check for a person: the fields named in ARGV[2..]
-- of the person's limiter hash, and the time to check them at. peek.rs evaluates them with
-- claim.lua's rules; nothing here records or renews anything.
--
-- KEYS: 1 the person's limiter hash
-- ARGV: 1 now in ms ('' = Redis TIME; tests only pass one), 2.. field names
-- Returns {now_ms, {value or false per field}}
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
if #fields == 0 then return {string.format('%d', now), {}} end
return {string.format('%d', now), redis.call('HMGET', KEYS[1], unpack(fields))}
