-- Corrections of finished requests, on the server's clock. KEYS[i] is adjustment i's key;
-- ARGV holds four fields per adjustment:
--   release: 'r', '', '', ''                      (in flight -1, never below 0)
--   budget:  'b', delta, expires_at_ms or '', ''  (skipped once its period has ended)
--   window:  'w', second, delta, window_secs      (never below 0; skipped once aged out)
local t = redis.call('TIME')
local now_s = tonumber(t[1])
local now_ms = now_s * 1000 + math.floor(tonumber(t[2]) / 1000)

for i = 1, #KEYS do
  local a = (i - 1) * 4
  local kind = ARGV[a + 1]
  local key = KEYS[i]
  if kind == 'r' then
    if tonumber(redis.call('GET', key) or '0') > 0 then
      redis.call('DECR', key)
    end
  elseif kind == 'b' then
    local expires = ARGV[a + 3]
    if expires == '' then
      redis.call('INCRBY', key, ARGV[a + 2])
    elseif tonumber(expires) > now_ms then
      redis.call('INCRBY', key, ARGV[a + 2])
      redis.call('PEXPIREAT', key, expires)
    end
  elseif kind == 'w' then
    local w = tonumber(ARGV[a + 4])
    if tonumber(ARGV[a + 2]) > now_s - w then
      if redis.call('HINCRBY', key, ARGV[a + 2], ARGV[a + 3]) < 0 then
        redis.call('HSET', key, ARGV[a + 2], 0)
      end
      redis.call('PEXPIRE', key, (w + 1) * 1000)
    end
  else
    return redis.error_reply('switchpoint settle: unknown adjustment kind ' .. tostring(kind))
  end
end
return 0
