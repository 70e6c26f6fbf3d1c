-- Admission: every check is evaluated before any is applied (all or none), atomically and on
-- the server's clock, so every gateway process agrees. KEYS[i] is check i's key; ARGV holds
-- four fields per check:
--   window:    'w', limit, cost, window_secs      (a HASH: field = unix second, value = units)
--   in flight: 'f', limit, '', ''                 (an integer counter)
--   budget:    'b', limit, reserve, expires_at_ms or ''   (an integer counter, nano-USD)
--   key live:  'k', rev, '', ''                   (the key's HASH)
-- Replies: {'ok', now_s}
--        | {'refused', index0, retry_after_ms or -1, current}
--        | {'key', index0, 'unknown' | 'revoked' | 'expired'}
--        | {'stale', index0}
local t = redis.call('TIME')
local now_s = tonumber(t[1])
local now_ms = now_s * 1000 + math.floor(tonumber(t[2]) / 1000)
-- In-flight counters outlive a crashed process's slots by at most this long.
local INFLIGHT_TTL_MS = 600000
-- Window fields that have aged out, deleted when the check is applied.
local aged = {}

for i = 1, #KEYS do
  local a = (i - 1) * 4
  local kind = ARGV[a + 1]
  local key = KEYS[i]
  if kind == 'w' then
    local limit = tonumber(ARGV[a + 2])
    local cost = tonumber(ARGV[a + 3])
    local w = tonumber(ARGV[a + 4])
    local cutoff = now_s - w
    local flat = redis.call('HGETALL', key)
    local sum = 0
    local live = {}
    local old = {}
    for j = 1, #flat, 2 do
      local s = tonumber(flat[j])
      local v = tonumber(flat[j + 1])
      if s > cutoff then
        sum = sum + v
        live[#live + 1] = { s, v }
      else
        old[#old + 1] = flat[j]
      end
    end
    if sum + cost > limit then
      local retry = -1
      if cost <= limit then
        table.sort(live, function(x, y) return x[1] < y[1] end)
        local excess = sum + cost - limit
        local freed = 0
        for _, b in ipairs(live) do
          freed = freed + b[2]
          if freed >= excess then
            retry = (b[1] + w) * 1000 - now_ms
            break
          end
        end
      end
      return { 'refused', i - 1, retry, sum }
    end
    aged[i] = old
  elseif kind == 'f' then
    local current = tonumber(redis.call('GET', key) or '0')
    if current >= tonumber(ARGV[a + 2]) then
      return { 'refused', i - 1, -1, current }
    end
  elseif kind == 'b' then
    local current = tonumber(redis.call('GET', key) or '0')
    if current + tonumber(ARGV[a + 3]) > tonumber(ARGV[a + 2]) then
      local retry = -1
      if ARGV[a + 4] ~= '' then
        retry = math.max(tonumber(ARGV[a + 4]) - now_ms, 0)
      end
      return { 'refused', i - 1, retry, current }
    end
  elseif kind == 'k' then
    local rec = redis.call('HMGET', key, 'rev', 'revoked', 'expires_at_ms')
    if not rec[1] then
      return { 'key', i - 1, 'unknown' }
    end
    if rec[2] == '1' then
      return { 'key', i - 1, 'revoked' }
    end
    if rec[3] and rec[3] ~= '' and tonumber(rec[3]) <= now_ms then
      return { 'key', i - 1, 'expired' }
    end
    if rec[1] ~= ARGV[a + 2] then
      return { 'stale', i - 1 }
    end
  else
    return redis.error_reply('switchpoint admit: unknown check kind ' .. tostring(kind))
  end
end

for i = 1, #KEYS do
  local a = (i - 1) * 4
  local kind = ARGV[a + 1]
  local key = KEYS[i]
  if kind == 'w' then
    redis.call('HINCRBY', key, now_s, ARGV[a + 3])
    local old = aged[i]
    -- HDEL in slices: unpack has a stack limit.
    for j = 1, #old, 500 do
      redis.call('HDEL', key, unpack(old, j, math.min(j + 499, #old)))
    end
    redis.call('PEXPIRE', key, (tonumber(ARGV[a + 4]) + 1) * 1000)
  elseif kind == 'f' then
    redis.call('INCR', key)
    redis.call('PEXPIRE', key, INFLIGHT_TTL_MS)
  elseif kind == 'b' then
    redis.call('INCRBY', key, ARGV[a + 3])
    if ARGV[a + 4] ~= '' then
      redis.call('PEXPIREAT', key, ARGV[a + 4])
    end
  end
end
return { 'ok', now_s }
