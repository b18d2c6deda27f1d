-- Claims one delivery for one person: checks every cap and records it, all or nothing.
--
-- Everything the limiter keeps about a person lives in ONE hash, {u:<person>}:lim, so this
-- script runs on one shard as one atomic step: no other claim for the same person, from
-- any replica of the service, can interleave between the checks and the writes. One hash
-- instead of a sorted set per cap is what makes a claim cheap: one read (HMGET) and one
-- write (HSET) of a single key, and no key creation per grant (docs/rate-limits.md).
--
-- KEYS: 1 the person's limiter hash
-- ARGV: 1 checkin_id, 2 offer_id, 3 brand, 4 fence, 5 now in ms ('' = Redis TIME; tests
--       only pass one), 6..15 count and period (ms) of person-day, person-week,
--       person-brand, person-offer and person-fence, 16 idempotency TTL (ms)
-- Returns {answer, replayed}; answer is 'G <at_ms>' or
--   'D <cap> <limit> <period_ms> <until_ms> <held_at_ms> <held_checkin> <held_offer>'
--   with -1 / '-' for absent values (ids never contain whitespace).
--
-- Fields (every value that can end starts with the ms it ends at, so reads are exact and
-- a daily sweep can drop what ended):
--   a            grants inside the longest person-wide window, one '<at> <checkin> <offer>
--                <brand> <fence>' per line (person-day, -week, -brand and -fence caps)
--   o:<offer>    '<ends>' then one '\n<at> <checkin>' per grant of that offer in its window
--   cd:<brand>   '<until>' of the brand's cool-down
--   c:<checkin>  '<ends> <served_at> <served_offer>' then one '\n<offer> <answer>' per
--                offer asked: the idempotency record ('-' when nothing was served)
--   sw           when the next sweep of ended fields is due
--   hz           the hash's expiry: at most a day after its last field ends

local key = KEYS[1]
local checkin, offer, brand, fence = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local record_ttl = tonumber(ARGV[16])
local SWEEP_EVERY = 86400000

local function int(n) return string.format('%d', n) end

local now
if ARGV[5] ~= '' then
  now = tonumber(ARGV[5])
else
  -- Redis's clock, not the caller's: replicas of the service may drift, Redis is one.
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local record_field, offer_field, cooldown_field = 'c:' .. checkin, 'o:' .. offer, 'cd:' .. brand
local got = redis.call('HMGET', key, record_field, 'a', offer_field, cooldown_field, 'sw', 'hz')
local record, all, offer_log, cooldown, sweep_at, horizon =
  got[1], got[2], got[3], got[4], tonumber(got[5]), tonumber(got[6] or '0')

-- A record that ended is as good as absent: a retry after the TTL counts as new.
local served_at, served_offer
if record then
  local ends, at, o = string.match(record, '^(%d+) (%S+) (%S+)')
  if tonumber(ends) <= now then
    record = nil
  elseif at ~= '-' then
    served_at, served_offer = at, o
  end
end

-- Writes the fields given plus the check-in's answer, renews the hash's life and, once a
-- day, drops fields that ended (their reads already ignore them).
local function store(answer, served, writes, ends_at)
  local body = ''
  if record then body = string.sub(record, (string.find(record, '\n', 1, true) or #record + 1)) end
  local head
  if served then
    head = int(now + record_ttl) .. ' ' .. served
  elseif served_at then
    head = int(now + record_ttl) .. ' ' .. served_at .. ' ' .. served_offer
  else
    head = int(now + record_ttl) .. ' - -'
  end
  writes[#writes + 1] = record_field
  writes[#writes + 1] = head .. body .. '\n' .. offer .. ' ' .. answer
  -- The hash lives until its last field ends, give or take a day: renewing its expiry only
  -- when that moves past the horizon spares a PEXPIRE on most claims.
  local needed = math.max(now + record_ttl, ends_at or 0)
  local new_horizon = horizon
  if needed > horizon then new_horizon = needed + SWEEP_EVERY end
  if not sweep_at then
    sweep_at = now + SWEEP_EVERY
    writes[#writes + 1] = 'sw'
    writes[#writes + 1] = int(sweep_at)
  elseif sweep_at <= now then
    local flat = redis.call('HGETALL', key)
    local ended = {}
    for i = 1, #flat, 2 do
      local f = flat[i]
      if f ~= 'a' and f ~= 'sw' and f ~= 'hz' and f ~= record_field then
        local ends = tonumber(string.match(flat[i + 1], '^(%d+)'))
        if ends and ends <= now then ended[#ended + 1] = f end
      end
    end
    if #ended > 0 then redis.call('HDEL', key, unpack(ended)) end
    writes[#writes + 1] = 'sw'
    writes[#writes + 1] = int(now + SWEEP_EVERY)
  end
  if new_horizon ~= horizon then
    writes[#writes + 1] = 'hz'
    writes[#writes + 1] = int(new_horizon)
  end
  redis.call('HSET', key, unpack(writes))
  if new_horizon ~= horizon then redis.call('PEXPIRE', key, int(new_horizon - now)) end
  return {answer, 0}
end

-- The first answer for (check-in, offer) is final: retries replay it and count nothing.
if record then
  local _, head_end = string.find(record, '\n' .. offer .. ' ', 1, true)
  if head_end then
    local stop = string.find(record, '\n', head_end + 1, true)
    return {string.sub(record, head_end + 1, (stop or 0) - 1), 1}
  end
end

local function deny(cap, limit, period, until_ms, held_at, held)
  return store('D ' .. cap .. ' ' .. int(limit) .. ' ' .. int(period) .. ' ' .. int(until_ms)
    .. ' ' .. int(held_at) .. ' ' .. (held or '- -'), nil, {}, nil)
end

-- One check-in yields at most one delivery, whichever offer asks.
if served_at then
  return deny('checkin-already-served', 1, -1, -1, tonumber(served_at), checkin .. ' ' .. served_offer)
end

local cooldown_until = tonumber(cooldown or '-1')
if cooldown_until > now then
  return deny('brand-cooldown', 0, -1, cooldown_until, -1, nil)
end

-- Grants that still count: entries of the all-grants log inside the longest window.
local day_n, day_p = tonumber(ARGV[6]), tonumber(ARGV[7])
local week_n, week_p = tonumber(ARGV[8]), tonumber(ARGV[9])
local brand_n, brand_p = tonumber(ARGV[10]), tonumber(ARGV[11])
local offer_n, offer_p = tonumber(ARGV[12]), tonumber(ARGV[13])
local fence_n, fence_p = tonumber(ARGV[14]), tonumber(ARGV[15])
local longest = math.max(day_p, week_p, brand_p, fence_p)
local grants = {}
for at, c, o, b, f in string.gmatch(all or '', '(%d+) (%S+) (%S+) (%S+) (%S+)') do
  at = tonumber(at)
  if at > now - longest then grants[#grants + 1] = {at, c, o, b, f} end
end

-- Sliding window: entries in (now - period, now] count. On a refusal, name the entry whose
-- expiry frees a slot: the (n - count + 1)-th oldest in the window (ties ordered like a
-- sorted set: time, then '<checkin> <offer>').
local function check(entries, count, period, cap, match_at, match)
  if count <= 0 then return deny(cap, 0, period, -1, -1, nil) end
  if period <= 0 or #entries < count then return nil end
  -- Count first; only a refusal needs the entries themselves (to name the holder).
  local from, n = now - period, 0
  for _, e in ipairs(entries) do
    if e[1] > from and (not match_at or e[match_at] == match) then n = n + 1 end
  end
  if n < count then return nil end
  local inside = {}
  for _, e in ipairs(entries) do
    if e[1] > from and (not match_at or e[match_at] == match) then
      inside[#inside + 1] = e
    end
  end
  table.sort(inside, function(x, y)
    if x[1] ~= y[1] then return x[1] < y[1] end
    return (x[2] .. ' ' .. x[3]) < (y[2] .. ' ' .. y[3])
  end)
  local e = inside[#inside - count + 1]
  return deny(cap, count, period, e[1] + period, e[1], e[2] .. ' ' .. e[3])
end

local offer_grants = {}
if offer_log then
  for at, c in string.gmatch(offer_log, '\n(%d+) (%S+)') do
    offer_grants[#offer_grants + 1] = {tonumber(at), c, offer}
  end
end

local denied = check(grants, day_n, day_p, 'person-day')
  or check(grants, week_n, week_p, 'person-week')
  or check(grants, brand_n, brand_p, 'person-brand', 4, brand)
  or check(offer_grants, offer_n, offer_p, 'person-offer')
  or check(grants, fence_n, fence_p, 'person-fence', 5, fence)
if denied then return denied end

-- Granted: record it in the all-grants log and the offer's log, keeping only what can
-- still count, and as the check-in's answer.
local writes = {}
local ends_at = 0
local now_s = int(now)
if longest > 0 then
  local lines = {}
  for _, e in ipairs(grants) do
    lines[#lines + 1] = int(e[1]) .. ' ' .. e[2] .. ' ' .. e[3] .. ' ' .. e[4] .. ' ' .. e[5]
  end
  lines[#lines + 1] = now_s .. ' ' .. checkin .. ' ' .. offer .. ' ' .. brand .. ' ' .. fence
  writes[#writes + 1] = 'a'
  writes[#writes + 1] = table.concat(lines, '\n')
  ends_at = now + longest
end
if offer_p > 0 then
  local lines = {int(now + offer_p)}
  for _, e in ipairs(offer_grants) do
    if e[1] > now - offer_p then lines[#lines + 1] = int(e[1]) .. ' ' .. e[2] end
  end
  lines[#lines + 1] = now_s .. ' ' .. checkin
  writes[#writes + 1] = offer_field
  writes[#writes + 1] = table.concat(lines, '\n')
  ends_at = math.max(ends_at, now + offer_p)
end
return store('G ' .. now_s, now_s .. ' ' .. offer, writes, ends_at)
