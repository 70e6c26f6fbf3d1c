-- A counter's value: a window's units (within the last ARGV[1] seconds if given, on the
-- server's clock), or an in-flight / budget integer; 0 when absent.
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'hash' then
  local cutoff = -1
  if ARGV[1] ~= '' then
    cutoff = tonumber(redis.call('TIME')[1]) - tonumber(ARGV[1])
  end
  local flat = redis.call('HGETALL', KEYS[1])
  local sum = 0
  for j = 1, #flat, 2 do
    if tonumber(flat[j]) > cutoff then
      sum = sum + tonumber(flat[j + 1])
    end
  end
  return sum
elseif kind == 'string' then
  return tonumber(redis.call('GET', KEYS[1])) or 0
end
return 0
