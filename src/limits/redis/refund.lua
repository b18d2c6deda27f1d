-- Gives back one delivery of an offer's budget that budget.lua reserved for a check-in
-- whose grant was released (its decision could not be recorded as this report).
--
-- KEYS: 1 counters (hash: total, day, day_count), 2 the reservations of the grant's UTC day
-- ARGV: 1 checkin_id, 2 the grant's time in ms
-- Returns 1 when a reservation was given back, 0 when there was none (never reserved,
-- already refunded, or forgotten): a refund never counts twice either.

local counters, reservations, checkin = KEYS[1], KEYS[2], ARGV[1]
local day_ms = 86400000
local function int(n) return string.format('%d', n) end

if redis.call('HDEL', reservations, checkin) == 0 then return 0 end
local c = redis.call('HMGET', counters, 'total', 'day', 'day_count')
local total = tonumber(c[1] or '0')
if total > 0 then redis.call('HSET', counters, 'total', int(total - 1)) end
local grant_day = math.floor(tonumber(ARGV[2]) / day_ms)
local day_count = tonumber(c[3] or '0')
if tonumber(c[2] or '-1') == grant_day and day_count > 0 then
  redis.call('HSET', counters, 'day_count', int(day_count - 1))
end
return 1
