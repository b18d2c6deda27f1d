-- Erasure: deletes every key kept about one person, atomically.
-- Keys with fixed names are passed in; the index names every other key (those whose
-- names hold a brand, offer or fence id). All share the person's hash tag: one shard.
--
-- KEYS: 1 log of all grants, 2 check-in answers, 3 index of the person's keys
-- Returns how many keys were deleted.

local deleted = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  -- ' <checkin>' members name fields of the check-in hash, which goes as a whole below.
  if string.sub(member, 1, 1) ~= ' ' then
    deleted = deleted + redis.call('DEL', member)
  end
end
return deleted + redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
