-- Compensation: the offer's budget refused a claim that claim.lua had granted.
-- Removes exactly the log entries that claim added and turns its stored answer into
-- the budget denial, so the person's caps are as if the claim never happened.
--
-- KEYS: 1 log of all grants, 2 brand log, 3 offer log, 4 fence log, 5 check-in answers
-- ARGV: 1 checkin_id, 2 offer_id, 3 denial answer to store
-- Returns 1 when something was released, 0 when there was nothing to undo.

local checkins, checkin, offer = KEYS[5], ARGV[1], ARGV[2]
local answers = redis.call('HGET', checkins, checkin .. ' a')
-- Erased, expired or never granted: nothing to undo, and nothing to recreate.
if not answers then return 0 end
local _, head_end = string.find(answers, '\n' .. offer .. ' ', 1, true)
if not head_end then return 0 end
local stop = string.find(answers, '\n', head_end + 1, true)
if string.sub(answers, head_end + 1, head_end + 1) ~= 'G' then return 0 end

local member = checkin .. ' ' .. offer
for i = 1, 4 do redis.call('ZREM', KEYS[i], member) end
local rest = ''
if stop then rest = string.sub(answers, stop) end
redis.call('HSET', checkins, checkin .. ' a', string.sub(answers, 1, head_end) .. ARGV[3] .. rest)
local served = redis.call('HGET', checkins, checkin)
if served and string.sub(served, -(#member + 1)) == ' ' .. member then
  redis.call('HDEL', checkins, checkin)
end
return 1
