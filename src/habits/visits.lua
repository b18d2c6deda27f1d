-- Records one check-in's visits for one person and returns each place's history.
-- KEYS[1] = the person's "seen" hash (place -> "last_ms:start_ms"), KEYS[2] = the person's key
-- index (for erasure), KEYS[3..] = one sorted set of visit starts per place.
-- ARGV = at_ms, now_ms, horizon_ms, gap_ms, max_visits, ttl_ms, then one local hour per place.
-- All keys share the person's hash tag, so this runs on one Redis Cluster slot.
local at = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local gap = tonumber(ARGV[4])
local maxv = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local seen_key, index_key = KEYS[1], KEYS[2]
local out = {}
for i = 3, #KEYS do
  local zkey = KEYS[i]
  local hour = ARGV[4 + i]
  local s = redis.call('HGET', seen_key, zkey)
  local last, start, new_start
  if not s then
    last, start, new_start = at, at, at
  else
    local sep = string.find(s, ':')
    last = tonumber(string.sub(s, 1, sep - 1))
    start = tonumber(string.sub(s, sep + 1))
    if at >= last then
      if at - last >= gap then
        last, start, new_start = at, at, at
      else
        last = at
      end
    elseif at >= start - gap then
      -- a late report inside the current visit may move its start earlier
      if at < start then
        redis.call('ZREMRANGEBYSCORE', zkey, start, start)
        start, new_start = at, at
      end
    else
      -- much older than the current visit: a past visit of its own
      new_start = at
    end
  end
  redis.call('HSET', seen_key, zkey, string.format('%d:%d', last, start))
  if new_start then
    redis.call('ZADD', zkey, new_start, string.format('%d:%s', new_start, hour))
  end
  redis.call('ZREMRANGEBYSCORE', zkey, '-inf', now - horizon)
  local n = redis.call('ZCARD', zkey)
  if n > maxv then
    redis.call('ZREMRANGEBYRANK', zkey, 0, n - maxv - 1)
  end
  redis.call('PEXPIRE', zkey, ttl)
  redis.call('SADD', index_key, zkey)
  table.insert(out, { start, redis.call('ZRANGE', zkey, 0, -1) })
end
redis.call('PEXPIRE', seen_key, ttl)
redis.call('SADD', index_key, seen_key)
redis.call('PEXPIRE', index_key, ttl)
return out
