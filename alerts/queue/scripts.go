package queue

import "github.com/redis/go-redis/v9"

// The scripts of Redis. Every key a script touches is passed in KEYS, and
// all share the {hooks} hash tag, as Redis Cluster requires. Every key a
// script writes gets the retention as its time to live, so that a queue
// left behind (atod gone, its key prefix changed) forgets its job ids: the
// sets that list jobs outlive the jobs, whose own keys expire within the
// retention of their last write too. Every pop, which workers run at
// least once a hooks.queue.max_wait, renews the sets of the kinds it
// serves, so that they never expire under a job that an earlier atod,
// which set no time to live, listed there during a rolling upgrade.

// enqueueScript: KEYS job, due, wake; ARGV json, now, id, retention.
var enqueueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'job', ARGV[1], 'state', 'queued', 'attempts', 0, 'token', '')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('RPUSH', KEYS[3], 1)
redis.call('LTRIM', KEYS[3], -64, -1)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1`)

// popScript: KEYS due, lease set and claims hash of each kind, in order of
// preference; ARGV now, lease-until, claim token, retention. Puts jobs whose lease
// expired back, then moves the first due job of the first kind that has
// one to that kind's lease set and notes the token as its claim, which
// takeScript checks. Returns {id, kind index (0-based), next due, next
// lease expiry}, "" for what is not there.
//
// Popping and taking are two scripts because the job's own key is known
// only once popped, and every key a script touches is passed in KEYS. The
// claim closes the gap between them: a worker whose lease had expired and
// that settles or extends the job meanwhile deletes the claim, so the pop
// comes to nothing instead of running the job a second time.
var popScript = redis.NewScript(`
for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ARGV[4]) end
for k = 1, #KEYS, 3 do
  local expired = redis.call('ZRANGEBYSCORE', KEYS[k+1], '-inf', ARGV[1], 'LIMIT', 0, 100)
  for _, id in ipairs(expired) do
    redis.call('ZREM', KEYS[k+1], id)
    redis.call('ZADD', KEYS[k], ARGV[1], id)
  end
end
local nextDue, nextLease = '', ''
for k = 1, #KEYS, 3 do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[k], '-inf', ARGV[1], 'LIMIT', 0, 1)
  if #ids == 1 then
    redis.call('ZREM', KEYS[k], ids[1])
    redis.call('ZADD', KEYS[k+1], ARGV[2], ids[1])
    redis.call('HSET', KEYS[k+2], ids[1], ARGV[3])
    redis.call('PEXPIRE', KEYS[k+1], ARGV[4])
    redis.call('PEXPIRE', KEYS[k+2], ARGV[4])
    return {ids[1], tostring((k-1)/3), '', ''}
  end
  local nd = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')
  if nd[2] and (nextDue == '' or tonumber(nd[2]) < tonumber(nextDue)) then nextDue = nd[2] end
  local nl = redis.call('ZRANGE', KEYS[k+1], 0, 0, 'WITHSCORES')
  if nl[2] and (nextLease == '' or tonumber(nl[2]) < tonumber(nextLease)) then nextLease = nl[2] end
end
return {'', '', nextDue, nextLease}`)

// takeScript: KEYS job, lease, claims; ARGV token, id. Returns {json,
// attempts}, or nil when the job was settled or expired meanwhile, or its
// claim is no longer this pop's (see popScript).
var takeScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], ARGV[2]) ~= ARGV[1] then return false end
redis.call('HDEL', KEYS[3], ARGV[2])
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'queued' and state ~= 'leased' then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return false
end
redis.call('HSET', KEYS[1], 'state', 'leased', 'token', ARGV[1])
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return {redis.call('HGET', KEYS[1], 'job'), n}`)

// extendScript: KEYS job, lease, claims; ARGV token, id, lease-until,
// retention.
var extendScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1`)

// doneScript: KEYS job, lease, claims; ARGV token, id, retention. The job's
// body (personal data) is dropped; its id stays for idempotency.
var doneScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[1], 'job', 'token')
redis.call('HSET', KEYS[1], 'state', 'done')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`)

// retryScript: KEYS job, lease, claims, due, wake; ARGV token, id, due,
// retention.
var retryScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[1], 'state', 'queued', 'token', '')
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
redis.call('RPUSH', KEYS[5], 1)
redis.call('LTRIM', KEYS[5], -64, -1)
redis.call('PEXPIRE', KEYS[4], ARGV[4])
redis.call('PEXPIRE', KEYS[5], ARGV[4])
return 1`)

// admitScript: KEYS decision, window, cooldown, tripped; ARGV now, window,
// max, cooldown, retention, member. Returns {verdict, duplicate, tripped}.
// A decision that tripped the limit is stored as "tripped" and reported as
// a trip each time it is admitted again: the caller that failed to raise
// the trip's alert raises it on its retry (the alert's id derives from the
// decision, so a second raise is a duplicate job). Earlier versions stored
// plain verdicts, which still read as they did.
var admitScript = redis.NewScript(`
local prev = redis.call('GET', KEYS[1])
if prev == 'tripped' then return {'rate_limit', 1, 1} end
if prev then return {prev, 1, 0} end
local now, window, maxn, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local verdict, tripped = 'allowed', 0
if redis.call('EXISTS', KEYS[3]) == 1 then
  verdict = 'cooldown'
else
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  if redis.call('ZCARD', KEYS[2]) >= maxn then
    verdict = 'rate_limit'
    if redis.call('SET', KEYS[4], 1, 'NX', 'PX', window) then tripped = 1 end
  else
    redis.call('ZADD', KEYS[2], now, ARGV[6])
    redis.call('PEXPIRE', KEYS[2], window)
    if cooldown > 0 then redis.call('SET', KEYS[3], 1, 'PX', cooldown) end
  end
end
local stored = verdict
if tripped == 1 then stored = 'tripped' end
redis.call('SET', KEYS[1], stored, 'PX', ARGV[5])
return {verdict, 0, tripped}`)
