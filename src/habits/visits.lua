-- Records one check-in's visits for one person and returns each place's history, with the
-- person's previous sighting (the fence and time of their last check-in inside a fence).
--
-- KEYS[1] = the person's habit hash: one field per place ('f:<fence>' or 'b:<brand>') holding
-- '<last_ms> <start_ms>' and then ' <visit_start_ms>:<local_hour>' per visit, oldest first.
-- Field 'hz' is when the hash expires. One hash per person (under the person's hash tag, so
-- this runs on one Redis Cluster slot)
-- means one read and one write per check-in, whatever the number of places.
-- The person's last sighting is '<fence> <at_ms> <until_ms>' ('until' is its expiry by the
-- caller's clock, so the caller's clock and Redis's agree on what is expired). With places
-- (personalization consent) it is field 'p' of the habit hash, read and written with the
-- visits at no extra command; the hash already holds when each fence was last seen. Without
-- places it is KEYS[2], a string expiring after sighting_ttl_ms. Same hash tag: one slot.
-- ARGV = at_ms, now_ms, horizon_ms, gap_ms, max_visits, ttl_ms, the fence to record as the
-- last sighting ('' for none), sighting_ttl_ms, then per place its field and the local hour
-- at it (no places without personalization consent: only the sighting is read and kept).
-- Returns { per place {start, members}, previous fence ('' for none), previous at_ms }.
local at = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local gap = tonumber(ARGV[4])
local maxv = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local sighted = ARGV[7]
local sight_ttl = tonumber(ARGV[8])
local key = KEYS[1]

-- A kept sighting, unless it expired: fence ('' for none) and time.
local function parse(value)
  if value then
    local f, t, u = string.match(value, '^(%S+) (%-?%d+) (%-?%d+)$')
    if f and tonumber(u) > now then return f, tonumber(t) end
  end
  return '', 0
end
-- What to keep now: this report, unless the kept sighting is more recent (a late report).
local function replacing(prev_fence, prev_at)
  if sighted ~= '' and (prev_fence == '' or at >= prev_at) then
    return string.format('%s %d %d', sighted, at, now + sight_ttl)
  end
end

if #ARGV < 9 then
  local prev_fence, prev_at = parse(redis.call('GET', KEYS[2]))
  local value = replacing(prev_fence, prev_at)
  if value then redis.call('SET', KEYS[2], value, 'PX', sight_ttl) end
  return { {}, prev_fence, prev_at }
end

local fields = {}
for i = 9, #ARGV, 2 do fields[#fields + 1] = ARGV[i] end
fields[#fields + 1] = 'hz'
fields[#fields + 1] = 'p'
local values = redis.call('HMGET', key, unpack(fields))
local sighting = values[#fields]
local expires = tonumber(values[#fields - 1] or '0')
fields[#fields] = nil
fields[#fields] = nil
-- Just given personalization consent: the sighting was kept without places until now.
if not sighting then sighting = redis.call('GET', KEYS[2]) end
local prev_fence, prev_at = parse(sighting)
sighting = replacing(prev_fence, prev_at)

local writes, out = {}, {}
for n, field in ipairs(fields) do
  local hour = ARGV[8 + 2 * n]
  local value = values[n]
  local visits = {}
  local last, start, new_start
  if not value then
    last, start, new_start = at, at, at
  else
    local l, s, rest = string.match(value, '^(%d+) (%d+)(.*)$')
    last, start = tonumber(l), tonumber(s)
    for t, h in string.gmatch(rest, ' (%d+):(%d+)') do visits[#visits + 1] = {tonumber(t), h} end
    if at >= last then
      if at - last >= gap then
        last, start, new_start = at, at, at
      else
        last = at
      end
    elseif at >= start - gap then
      -- a late report inside the current visit may move its start earlier
      if at < start then
        local kept = {}
        for _, v in ipairs(visits) do if v[1] ~= start then kept[#kept + 1] = v end end
        visits = kept
        start, new_start = at, at
      end
    else
      -- much older than the current visit: a past visit of its own
      new_start = at
    end
  end
  if new_start then
    local known = false
    for _, v in ipairs(visits) do if v[1] == new_start then known = true end end
    if not known then
      visits[#visits + 1] = {new_start, hour}
      table.sort(visits, function(x, y) return x[1] < y[1] end)
    end
  end
  -- Old visits fade: only the horizon counts, and at most max_visits of them.
  local first = 1
  while first <= #visits and visits[first][1] <= now - horizon do first = first + 1 end
  first = math.max(first, #visits - maxv + 1)
  local parts, members = {string.format('%d %d', last, start)}, {}
  for i = first, #visits do
    local member = string.format('%d:%s', visits[i][1], visits[i][2])
    parts[#parts + 1] = member
    members[#members + 1] = member
  end
  writes[#writes + 1] = field
  writes[#writes + 1] = table.concat(parts, ' ')
  out[n] = { start, members }
end
if sighting then
  writes[#writes + 1] = 'p'
  writes[#writes + 1] = sighting
end
-- The hash outlives the last check-in by ttl, give or take a day ('hz'): renewing its
-- expiry once a day rather than at every check-in spares a call on most of them.
if now + ttl > expires then
  writes[#writes + 1] = 'hz'
  writes[#writes + 1] = string.format('%d', now + ttl + 86400000)
  redis.call('HSET', key, unpack(writes))
  redis.call('PEXPIRE', key, ttl + 86400000)
else
  redis.call('HSET', key, unpack(writes))
end
return { out, prev_fence, prev_at }
