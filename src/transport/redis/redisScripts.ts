import { redisScript } from './redisScript.js';

/**
 * put: KEYS deltas stream, pending hash; ARGV[1] the arrivals channel, then (key, bytes) pairs (at
 * most 2048: `unpack` is bounded by Lua's C stack). A key already in the pending hash, or earlier in
 * the same call, is a duplicate (reply 0); otherwise the bytes are appended to the stream (reply:
 * the entry id). One HMGET before and one HSET after, so the per-delta cost is the XADD alone; one
 * wake-up message per call that stored something.
 */
export const PUT_SCRIPT = redisScript(`
local n = (#ARGV - 1) / 2
local keys = {}
for i = 1, n do keys[i] = ARGV[2 * i] end
local known = redis.call('HMGET', KEYS[2], unpack(keys))
local out, fresh, seen = {}, {}, {}
for i = 1, n do
  local key = keys[i]
  if known[i] or seen[key] then
    out[i] = 0
  else
    local id = redis.call('XADD', KEYS[1], '*', 'k', key, 'd', ARGV[2 * i + 1])
    seen[key] = true
    fresh[#fresh + 1] = key
    fresh[#fresh + 1] = id
    out[i] = id
  end
end
if #fresh > 0 then
  redis.call('HSET', KEYS[2], unpack(fresh))
  redis.call('PUBLISH', ARGV[1], #fresh / 2)
end
return out
`);

/**
 * ack: KEYS deltas stream, pending hash; ARGV[1] the group, then (id, key) pairs (at most 4096; key
 * '' when the caller does not know it: read from the entry). Acknowledges and deletes the entries,
 * and drops each pending key that still maps to its entry (a newer copy of the key keeps its own).
 * Reply: how many were acknowledged.
 */
export const ACK_SCRIPT = redisScript(`
local ids, keys = {}, {}
for i = 2, #ARGV, 2 do
  local id, key = ARGV[i], ARGV[i + 1]
  if key == '' then
    local e = redis.call('XRANGE', KEYS[1], id, id)
    if e[1] then
      local f = e[1][2]
      for j = 1, #f, 2 do if f[j] == 'k' then key = f[j + 1] end end
    end
  end
  ids[#ids + 1] = id
  keys[#keys + 1] = key
end
local n = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
local now = redis.call('HMGET', KEYS[2], unpack(keys))
local drop = {}
for i = 1, #ids do
  if keys[i] ~= '' and now[i] == ids[i] then drop[#drop + 1] = keys[i] end
end
if #drop > 0 then redis.call('HDEL', KEYS[2], unpack(drop)) end
return n
`);

/**
 * Drops the group's consumers that hold nothing (dead mergers whose entries were claimed, or this
 * one at close); ARGV[1] the group, ARGV[2] a consumer to keep ('' for none). Atomic: a consumer
 * with pending entries is never dropped, so nothing leaves the pending list unacknowledged.
 */
export const DROP_IDLE_CONSUMERS_SCRIPT = redisScript(`
local gone = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending
  for j = 1, #c, 2 do
    if c[j] == 'name' then name = c[j + 1] elseif c[j] == 'pending' then pending = c[j + 1] end
  end
  if name ~= ARGV[2] and pending == 0 then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    gone = gone + 1
  end
end
return gone
`);

/**
 * Lease: KEYS lease, fence; ARGV holder, ttl ms. Free → a new fencing token (INCR) and the lease
 * `<holder>|<token>` with the TTL: reply {1, token}. Held → {0, current value}.
 */
export const ACQUIRE_LEASE_SCRIPT = redisScript(`
local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur} end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return {1, token}
`);

/** Renews the lease only while it still holds ARGV[1] (reply 1); else replies with what it holds ('' when nothing). */
export const RENEW_LEASE_SCRIPT = redisScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return cur or ''
`);

/** Deletes the lease only while it still holds ARGV[1]. */
export const RELEASE_LEASE_SCRIPT = redisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * publishMerges: KEYS lease, head, merges stream; ARGV[1] the lease value the publisher holds, then
 * (index, frame, recordSha256, bundle) per merge. Writes nothing unless the lease still holds
 * ARGV[1] (reply {'lease-lost', current}) and the indexes follow the head one by one (reply
 * {'diverged', head index, offending index}); then appends each as entry `<index>-0` and moves the head.
 */
export const PUBLISH_MERGES_SCRIPT = redisScript(`
local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return {'lease-lost', cur or ''} end
local headText = redis.call('HGET', KEYS[2], 'index') or '0'
local expect = tonumber(headText) + 1
for i = 2, #ARGV, 4 do
  if tonumber(ARGV[i]) ~= expect then return {'diverged', headText, ARGV[i]} end
  expect = expect + 1
end
for i = 2, #ARGV, 4 do
  redis.call('XADD', KEYS[3], ARGV[i] .. '-0', 'f', ARGV[i + 1], 's', ARGV[i + 2], 'b', ARGV[i + 3])
end
local last = #ARGV - 3
redis.call('HSET', KEYS[2], 'index', ARGV[last], 'frame', ARGV[last + 1], 'recordSha256', ARGV[last + 2])
return {'ok'}
`);

/** Every script, for loading them at open. */
export const ALL_SCRIPTS = [PUT_SCRIPT, ACK_SCRIPT, DROP_IDLE_CONSUMERS_SCRIPT, ACQUIRE_LEASE_SCRIPT, RENEW_LEASE_SCRIPT, RELEASE_LEASE_SCRIPT, PUBLISH_MERGES_SCRIPT];
