-- Stores a virtual key record and bumps its revision in one step. KEYS[1] is the key's HASH,
-- KEYS[2] the SET of key ids; ARGV: id, hash, revoked ('1' / '0'), expires_at_ms or '', body.
-- Returns the new revision (1 for a new id).
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('HSET', KEYS[1], 'hash', ARGV[2], 'revoked', ARGV[3], 'expires_at_ms', ARGV[4],
  'body', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
return rev
