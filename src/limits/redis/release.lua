-- Compensation: the offer's budget refused a claim that claim.lua had granted.
-- Removes exactly the log entries that claim added and turns its stored answer into
-- the budget denial, so the person's caps are as if the claim never happened.
--
-- KEYS: 1 the person's limiter hash (claim.lua describes its fields)
-- ARGV: 1 checkin_id, 2 offer_id, 3 denial answer to store
-- Returns 1 when something was released, 0 when there was nothing to undo.

local key, checkin, offer = KEYS[1], ARGV[1], ARGV[2]
local record_field, offer_field = 'c:' .. checkin, 'o:' .. offer
local got = redis.call('HMGET', key, record_field, 'a', offer_field)
local record, all, offer_log = got[1], got[2], got[3]
-- Erased, expired or never granted: nothing to undo, and nothing to recreate.
if not record then return 0 end
local _, head_end = string.find(record, '\n' .. offer .. ' ', 1, true)
if not head_end or string.sub(record, head_end + 1, head_end + 1) ~= 'G' then return 0 end
local stop = string.find(record, '\n', head_end + 1, true)
local rest = ''
if stop then rest = string.sub(record, stop) end
record = string.sub(record, 1, head_end) .. ARGV[3] .. rest
-- The check-in no longer holds a delivery of this offer.
local ends, served_offer = string.match(record, '^(%d+) %S+ (%S+)')
if served_offer == offer then
  record = ends .. ' - -' .. string.sub(record, (string.find(record, '\n', 1, true)))
end

-- Keeps the lines of a log that are not this claim's entry.
local function without(log, pattern)
  local kept = {}
  for line in string.gmatch(log, '[^\n]+') do
    if not string.find(line, pattern) then kept[#kept + 1] = line end
  end
  return table.concat(kept, '\n')
end
local writes = {record_field, record}
local escaped = string.gsub(checkin, '%p', '%%%0')
local escaped_offer = string.gsub(offer, '%p', '%%%0')
if all then
  writes[#writes + 1] = 'a'
  writes[#writes + 1] = without(all, '^%d+ ' .. escaped .. ' ' .. escaped_offer .. ' ')
end
if offer_log then
  writes[#writes + 1] = offer_field
  writes[#writes + 1] = without(offer_log, '^%d+ ' .. escaped .. '$')
end
redis.call('HSET', key, unpack(writes))
return 1
