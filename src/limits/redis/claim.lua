-- Claims one delivery for one person: checks every cap and records it, all or nothing.
--
-- Every key shares the person's hash tag {u:<person>}, so this script runs on one shard
-- as one atomic step: no other claim for the same person, from any replica of the
-- service, can interleave between the checks and the writes.
--
-- KEYS: 1 log of all grants, 2 brand log, 3 offer log, 4 fence log,
--       5 brand cool-down, 6 check-in answers (hash), 7 index of the person's keys
-- ARGV: 1 checkin_id, 2 offer_id, 3 now in ms ('' = Redis TIME; tests only pass one),
--       4..13 count and period (ms) of person-day, person-week, person-brand,
--       person-offer and person-fence, 14 idempotency TTL (ms)
-- Returns {answer, replayed}; answer is 'G <at_ms>' or
--   'D <cap> <limit> <period_ms> <until_ms> <held_at_ms> <held_checkin> <held_offer>'
--   with -1 / '-' for absent values (ids never contain whitespace).
--
-- Check-in answers live in one hash per person (a key per check-in would cost a key
-- creation per claim): field '<checkin> a' holds '\n<offer> <answer>' per offer asked,
-- field '<checkin>' holds '<at_ms> <checkin> <offer>' once the check-in got a grant.

local all_log, brand_log, offer_log, fence_log = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cooldown, checkins, index = KEYS[5], KEYS[6], KEYS[7]
local checkin, offer = ARGV[1], ARGV[2]
local record_ttl = tonumber(ARGV[14])

local function int(n) return string.format('%d', n) end

local now
if ARGV[3] ~= '' then
  now = tonumber(ARGV[3])
else
  -- Redis's clock, not the caller's: replicas of the service may drift, Redis is one.
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The index names what erasure must find (keys whose names hold brand, offer or fence
-- ids; ' <checkin>' for a check-in's fields), scored by when its life ends. Whatever
-- ended goes now, so a stale answer is never replayed and the index stays small.
-- (With TIME the keys have expired already; this keeps a test clock exact as well.)
-- At most 500 per claim bounds the work after a long absence; the rest go next time.
-- Meanwhile a leftover log only holds entries outside every window, and a leftover
-- check-in record could at worst replay its old answer, which counts nothing.
local stale = redis.call('ZRANGEBYSCORE', index, '-inf', int(now), 'LIMIT', 0, 500)
if #stale > 0 then
  local fields, keys = {}, {}
  for _, member in ipairs(stale) do
    if string.sub(member, 1, 1) == ' ' then
      local old = string.sub(member, 2)
      fields[#fields + 1] = old
      fields[#fields + 1] = old .. ' a'
    else
      keys[#keys + 1] = member
    end
  end
  if #fields > 0 then redis.call('HDEL', checkins, unpack(fields)) end
  if #keys > 0 then redis.call('DEL', unpack(keys)) end
  redis.call('ZREM', index, unpack(stale))
end

local remembered = {}
local function remember(member, expires_at)
  remembered[#remembered + 1] = int(expires_at)
  remembered[#remembered + 1] = member
end

local answers_field = checkin .. ' a'
local answers, served = unpack(redis.call('HMGET', checkins, answers_field, checkin))

-- Stores the answer for (check-in, offer) and files everything written in the index,
-- which must outlive every key it names.
local function store(answer, served_value)
  local value = (answers or '') .. '\n' .. offer .. ' ' .. answer
  if served_value then
    redis.call('HSET', checkins, answers_field, value, checkin, served_value)
  else
    redis.call('HSET', checkins, answers_field, value)
  end
  redis.call('PEXPIRE', checkins, int(record_ttl))
  remember(' ' .. checkin, now + record_ttl)
  redis.call('ZADD', index, 'GT', unpack(remembered))
  local ttl = 0
  for i = 1, #remembered, 2 do ttl = math.max(ttl, tonumber(remembered[i]) - now) end
  if served_value then
    -- A grant usually pushes the horizon (its offer log): try to extend first. GT never
    -- shortens; it treats "no TTL" as infinite, so a new index needs NX.
    if redis.call('PEXPIRE', index, int(ttl), 'GT') == 0 then
      redis.call('PEXPIRE', index, int(ttl), 'NX')
    end
  elseif redis.call('PTTL', index) < ttl then
    -- A refusal only adds its check-in record, usually well inside the horizon.
    redis.call('PEXPIRE', index, int(ttl))
  end
  return {answer, 0}
end

-- The first answer for (check-in, offer) is final: retries replay it and count nothing.
if answers then
  local _, head_end = string.find(answers, '\n' .. offer .. ' ', 1, true)
  if head_end then
    local stop = string.find(answers, '\n', head_end + 1, true)
    return {string.sub(answers, head_end + 1, (stop or 0) - 1), 1}
  end
end

local function deny(cap, limit, period, until_ms, held_at, held)
  return store(table.concat({'D', cap, int(limit), int(period), int(until_ms),
    int(held_at), held or '- -'}, ' '), nil)
end

-- One check-in yields at most one delivery, whichever offer asks.
if served then
  local at, held = string.match(served, '^(%S+) (.*)$')
  return deny('checkin-already-served', 1, -1, -1, tonumber(at), held)
end

local cooldown_until = tonumber(redis.call('GET', cooldown) or '-1')
if cooldown_until > now then
  return deny('brand-cooldown', 0, -1, cooldown_until, -1, nil)
end

-- Sliding log: entries in (now - period, now] count. On a refusal, name the entry whose
-- expiry frees a slot: the (n - count + 1)-th oldest in the window.
local function check(key, count, period, cap, n)
  if count <= 0 then return deny(cap, 0, period, -1, -1, nil) end
  if period <= 0 then return nil end
  local from = '(' .. int(now - period)
  n = n or redis.call('ZCOUNT', key, from, '+inf')
  if n < count then return nil end
  local e = redis.call('ZRANGEBYSCORE', key, from, '+inf', 'WITHSCORES', 'LIMIT', n - count, 1)
  local at = tonumber(e[2])
  return deny(cap, count, period, at + period, at, e[1])
end

local day_n, day_p = tonumber(ARGV[4]), tonumber(ARGV[5])
local week_n, week_p = tonumber(ARGV[6]), tonumber(ARGV[7])
local brand_p, offer_p, fence_p = tonumber(ARGV[9]), tonumber(ARGV[11]), tonumber(ARGV[13])
-- Shortcut: when the week window holds the day window and has room for both caps, the
-- day window has room too (one ZCOUNT instead of two on the usual path).
local known
if day_p <= week_p and week_p > 0 and day_n > 0 and week_n > 0 then
  local in_week = redis.call('ZCOUNT', all_log, '(' .. int(now - week_p), '+inf')
  if in_week < day_n and in_week < week_n then known = in_week end
end
local denied = check(all_log, day_n, day_p, 'person-day', known)
  or check(all_log, week_n, week_p, 'person-week', known)
  or check(brand_log, tonumber(ARGV[8]), brand_p, 'person-brand')
  or check(offer_log, tonumber(ARGV[10]), offer_p, 'person-offer')
  or check(fence_log, tonumber(ARGV[12]), fence_p, 'person-fence')
if denied then return denied end

-- Granted: record in every log; the key lives exactly as long as its newest entry
-- matters, so nothing lingers. Entries that left the window are trimmed, except in a
-- one-per-window log: it had no entry in the window, so the sweep above deleted it.
local member = checkin .. ' ' .. offer
local function log(key, period, count, indexed)
  if period <= 0 then return end
  redis.call('ZADD', key, int(now), member)
  if count > 1 then redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now - period)) end
  redis.call('PEXPIRE', key, int(period))
  if indexed then remember(key, now + period) end
end
log(all_log, math.max(day_p, week_p), 2, false)
log(brand_log, brand_p, tonumber(ARGV[8]), true)
log(offer_log, offer_p, tonumber(ARGV[10]), true)
log(fence_log, fence_p, tonumber(ARGV[12]), true)

return store('G ' .. int(now), int(now) .. ' ' .. member)
