-- Reserves one delivery of an offer's budget for a check-in, idempotently.
-- Runs on the offer's own keys ({o:<offer>}) after the person's claim was granted.
--
-- KEYS: 1 counters (hash: total, day, day_count), 2 the reservations of the grant's UTC day
--       (hash: checkin -> 1)
-- ARGV: 1 checkin_id, 2 total limit (-1: none), 3 daily limit (-1: none),
--       4 the grant's time in ms (claim.lua read it from Redis TIME, or the test clock),
--       5 how long reservations are remembered (ms)
-- Returns 'OK', 'OK total' / 'OK daily' when this reservation took the last delivery of
-- that budget (the claim that exhausted it: `offer.budget_exhausted`), or a denial answer
-- in claim.lua's format. A retry of a reservation gets the same answer again: the
-- reservation keeps what it exhausted.
--
-- Reservations are kept per UTC day of the grant: a retry replays its grant, with the
-- grant's time, so it finds its reservation in the same day's hash. One HSETNX both asks
-- "reserved before?" and reserves (a sorted set needed ZSCORE and ZADD, and a trim).

local counters, reservations, checkin = KEYS[1], KEYS[2], ARGV[1]
local total_limit, daily_limit, keep = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
local day_ms = 86400000

local function int(n) return string.format('%d', n) end

-- The grant's own time: the budget day is the day the person's claim was granted, and
-- this script needs no second clock read.
local now = tonumber(ARGV[4])

-- A retry of a check-in that already reserved must not spend the budget twice.
if redis.call('HSETNX', reservations, checkin, '1') == 0 then
  local was = redis.call('HGET', reservations, checkin)
  if was == 'total' or was == 'daily' then return 'OK ' .. was end
  return 'OK'
end

local today = math.floor(now / day_ms)
local c = redis.call('HMGET', counters, 'total', 'day', 'day_count')
local total = tonumber(c[1] or '0')
local day_count = 0
if tonumber(c[2] or '-1') == today then day_count = tonumber(c[3] or '0') end

local denial
if total_limit >= 0 and total >= total_limit then
  denial = 'D budget-total ' .. int(total_limit) .. ' -1 -1 -1 - -'
elseif daily_limit >= 0 and day_count >= daily_limit then
  denial = 'D budget-daily ' .. int(daily_limit) .. ' ' .. int(day_ms) .. ' '
    .. int((today + 1) * day_ms) .. ' -1 - -'
end
if denial then
  -- Refused: not reserved (the person's claim is released and stores the refusal).
  redis.call('HDEL', reservations, checkin)
  return denial
end

-- The counters have no TTL on purpose: a total budget that expired would be spent again.
redis.call('HSET', counters, 'total', int(total + 1), 'day', int(today), 'day_count', int(day_count + 1))
-- This reservation took the last delivery: the total first (it never comes back), else the day's.
local exhausted
if total_limit >= 0 and total + 1 == total_limit then
  exhausted = 'total'
elseif daily_limit >= 0 and day_count + 1 == daily_limit then
  exhausted = 'daily'
end
if exhausted then redis.call('HSET', reservations, checkin, exhausted) end
-- The first reservation of a day gives that day's hash its life: the day, then `keep`.
if tonumber(c[2] or '-1') ~= today then
  redis.call('PEXPIRE', reservations, int((today + 1) * day_ms + keep - now))
end
if exhausted then return 'OK ' .. exhausted end
return 'OK'
