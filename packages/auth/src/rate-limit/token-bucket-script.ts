/**
 * One atomic take from a token bucket stored as a Redis hash {tokens, ts}.
 * KEYS[1] bucket; ARGV[1] capacity, ARGV[2] tokens per ms, ARGV[3] cost.
 * Returns {allowed (0|1), tokens left (string: Lua numbers become integers in replies), retry ms}.
 * Time is the Redis server's (TIME), so replicas sharing a bucket agree; the key expires when it
 * would be full again, so idle buckets vanish.
 */
export const TAKE_TOKENS_LUA = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((cost - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((capacity - tokens) / rate)))
return {allowed, string.format('%.17g', tokens), retry}
`;
