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
-- KEYS[3] = the person's visit state (track.rs has the rule; this is the same rule): field 't'
-- is the newest report applied, 'v:<fence>' is '<enter_ms> <last_ms> <dwelled 0|1> <exit_ms
-- or -> <brand>'. Kept for everyone with location consent (triggers need it), expiring after
-- vis_ttl_ms without a report; closed visits are dropped exit_memory_ms after their exit.
-- Field 'k' is the retry key of the last report outside every fence that moved the state.
-- KEYS[4] = the person's consent gate entry (people/gate: '<location><personalization>' as
-- 0/1, or a change mark or fill ticket), read when asked (the round trip of the consent read).
-- ARGV = at_ms, now_ms, horizon_ms, gap_ms, max_visits, ttl_ms, the fence to record as the
-- last sighting ('' for none), sighting_ttl_ms, dwell_ms, timeout_ms, exit_memory_ms,
-- vis_ttl_ms, the mode ('leave' for a report outside every fence, else ''), '1' to read the
-- consent entry first (else the caller read it), the report's retry key, the number of
-- fences the report is inside and each one's id and brand, the number of fences it is near
-- and their ids, then per place its field and the local hour at it (no places without
-- personalization consent: only the sighting is read and kept).
-- With the entry read and not allowing location (or not a state: absent, marked), nothing is
-- read or written and the entry comes back for the caller to follow the gate's protocol; with
-- the entry read, the caller sends the places as if it allowed personalization, and they are
-- ignored when it does not ('10').
-- In mode 'leave' (no fence inside, no places, no sighting): the visit state moves only when
-- a visit is open and the report is not older than it, every open visit the report is not
-- near closes, and the retry key is kept; a report whose key is the one kept is a retry and
-- moves nothing. Nothing else is read or written.
-- Returns { per place {start, members}, previous fence ('' for none), previous at_ms,
-- events {kind, fence, at_ms} in order, visits {fence, enter, last, dwelled, exit or '',
-- brand}, 1 if the visit state moved (0 for a late report or nothing tracked), the consent
-- entry ('' unless read), 1 for a retry }.
local at = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local gap = tonumber(ARGV[4])
local maxv = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local sighted = ARGV[7]
local sight_ttl = tonumber(ARGV[8])
local dwell = tonumber(ARGV[9])
local timeout = tonumber(ARGV[10])
local memory = tonumber(ARGV[11])
local vis_ttl = tonumber(ARGV[12])
local key = KEYS[1]
local leaving = ARGV[13] == 'leave'
local retry_key = ARGV[15]
local entry = ''
if ARGV[14] == '1' then
  entry = redis.call('GET', KEYS[4]) or ''
  if not string.match(entry, '^1[01]$') then return { {}, '', 0, {}, {}, 0, entry, 0 } end
end
local a = 16
local inside, inside_list = {}, {}
for _ = 1, tonumber(ARGV[a]) do
  inside[ARGV[a + 1]] = ARGV[a + 2]
  inside_list[#inside_list + 1] = ARGV[a + 1]
  a = a + 2
end
a = a + 1
-- Outside every fence: the fences inside (none) are not the caller's to give.
if leaving then inside, inside_list = {}, {} end
local near, n_near = {}, tonumber(ARGV[a])
for k = 1, n_near do near[ARGV[a + k]] = true end
local first_place = a + n_near + 1
-- The entry read says no personalization: the places the caller sent (as if it allowed it)
-- are not kept, only the sighting is.
local places_end = #ARGV
if entry == '10' then places_end = first_place - 1 end

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

-- Visit state: exits (timeout, then beyond the margin), enters, dwells; late reports read it.
local events, visits_out, moved = {}, {}, 0
local entered_fence, entered_brand = {}, {}
if leaving or #inside_list + n_near > 0 then
  local raw = redis.call('HGETALL', KEYS[3])
  local latest, left_by, open, vis, names, gone = 0, '', false, {}, {}, {}
  for k = 1, #raw, 2 do
    if raw[k] == 't' then
      latest = tonumber(raw[k + 1])
    elseif raw[k] == 'k' then
      left_by = raw[k + 1]
    else
      local e, l, d, x, b = string.match(raw[k + 1], '^(%-?%d+) (%-?%d+) (%d) (%S+) (.*)$')
      local f = string.sub(raw[k], 3)
      vis[f] = { enter = tonumber(e), last = tonumber(l), dwelled = d == '1', exit = tonumber(x), brand = b }
      names[#names + 1] = f
      open = open or not vis[f].exit
    end
  end
  if leaving and left_by == retry_key then return { {}, '', 0, {}, {}, 0, entry, 1 } end
  -- Outside every fence with no open visit: nothing to close, and nothing is kept.
  if leaving and not open then return { {}, '', 0, {}, {}, 0, entry, 0 } end
  if at >= latest then
    moved = 1
    local kept = {}
    for _, f in ipairs(names) do
      if vis[f].exit and vis[f].exit <= now - memory then
        vis[f] = nil
        gone[#gone + 1] = 'v:' .. f
      else
        kept[#kept + 1] = f
      end
    end
    names = kept
    table.sort(names)
    local open_before = {}
    for _, f in ipairs(names) do
      local v = vis[f]
      if not v.exit then
        if at - v.last >= timeout then
          v.exit = v.last
          events[#events + 1] = { 'exit', f, v.last }
        else
          open_before[v.brand] = true
          if not inside[f] and not near[f] then
            v.exit = at
            events[#events + 1] = { 'exit', f, at }
          else
            v.last = at
          end
        end
      end
    end
    table.sort(inside_list)
    for _, f in ipairs(inside_list) do
      local v, b = vis[f], inside[f]
      if not v or v.exit then
        if not v then names[#names + 1] = f end
        vis[f] = { enter = at, last = at, dwelled = false, brand = b }
        events[#events + 1] = { 'enter', f, at }
        entered_fence[f] = true
        if not open_before[b] then entered_brand[b] = true end
      end
    end
    table.sort(names)
    local writes = { 't', string.format('%d', at) }
    for _, f in ipairs(names) do
      local v = vis[f]
      if not v.exit and not v.dwelled and at - v.enter >= dwell then
        v.dwelled = true
        events[#events + 1] = { 'dwell', f, at }
      end
      writes[#writes + 1] = 'v:' .. f
      writes[#writes + 1] = string.format('%d %d %d %s %s', v.enter, v.last, v.dwelled and 1 or 0,
        v.exit and string.format('%d', v.exit) or '-', v.brand)
    end
    if leaving then
      writes[#writes + 1] = 'k'
      writes[#writes + 1] = retry_key
    end
    if #gone > 0 then redis.call('HDEL', KEYS[3], unpack(gone)) end
    redis.call('HSET', KEYS[3], unpack(writes))
    redis.call('PEXPIRE', KEYS[3], vis_ttl)
  end
  for _, f in ipairs(names) do
    local v = vis[f]
    visits_out[#visits_out + 1] = { f, v.enter, v.last, v.dwelled and 1 or 0,
      v.exit and string.format('%d', v.exit) or '', v.brand }
  end
end

if leaving then
  if moved == 0 then visits_out = {} end
  return { {}, '', 0, events, visits_out, moved, entry, 0 }
end
if first_place > places_end then
  local prev_fence, prev_at = parse(redis.call('GET', KEYS[2]))
  local value = replacing(prev_fence, prev_at)
  if value then redis.call('SET', KEYS[2], value, 'PX', sight_ttl) end
  return { {}, prev_fence, prev_at, events, visits_out, moved, entry, 0 }
end

local fields = {}
for i = first_place, places_end, 2 do fields[#fields + 1] = ARGV[i] end
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
  local hour = ARGV[first_place - 1 + 2 * n]
  local entered
  if string.sub(field, 1, 2) == 'f:' then
    entered = entered_fence[string.sub(field, 3)]
  else
    entered = entered_brand[string.sub(field, 3)]
  end
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
      if entered or at - last >= gap then
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
return { out, prev_fence, prev_at, events, visits_out, moved, entry, 0 }
