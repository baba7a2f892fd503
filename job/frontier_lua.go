package job

// The frontier's scripts. Each receives the meta key as KEYS[1] (so that a
// cluster client routes it to the job's slot) and the key prefix as
// ARGV[1]; every other key name is built from the prefix and shares its
// hash tag. ARGV[2] is PerSite.
const frontierPrelude = luaTime + `
local P = ARGV[1]
local perSite = tonumber(ARGV[2])
local META = KEYS[1]
local function dropped(site)
  return redis.call('SISMEMBER', P .. 'f:dropped', site) == 1
end
-- inring puts site at the end of the ring if it has ready items and a free
-- lease slot and is not there already.
local function inring(site)
  if redis.call('SISMEMBER', P .. 'f:ringm', site) == 1 or dropped(site) then return end
  if redis.call('LLEN', P .. 'f:q:' .. site) == 0 then return end
  if tonumber(redis.call('HGET', P .. 'f:inflight', site) or '0') >= perSite then return end
  redis.call('RPUSH', P .. 'f:ring', site)
  redis.call('SADD', P .. 'f:ringm', site)
end
-- endlease removes lease id and returns its site and item, or nil.
local function endlease(id)
  local v = redis.call('HGET', P .. 'f:lease', id)
  if not v then return nil end
  redis.call('HDEL', P .. 'f:lease', id)
  redis.call('ZREM', P .. 'f:leases', id)
  local nl = string.find(v, '\n', 1, true)
  local site = string.sub(v, 1, nl - 1)
  if redis.call('HINCRBY', P .. 'f:inflight', site, -1) <= 0 then
    redis.call('HDEL', P .. 'f:inflight', site)
  end
  redis.call('HINCRBY', META, 'inflight', -1)
  return site, string.sub(v, nl + 1)
end
-- enqueue queues item of site, delayed until nb (ms) if that is later than now.
local function enqueue(site, item, nb)
  redis.call('SADD', P .. 'f:sites', site)
  redis.call('HINCRBY', META, 'queued', 1)
  if nb > now then
    redis.call('ZADD', P .. 'f:d:' .. site, nb, item)
    local cur = redis.call('ZSCORE', P .. 'f:due', site)
    if not cur or tonumber(cur) > nb then redis.call('ZADD', P .. 'f:due', nb, site) end
    redis.call('HINCRBY', META, 'delayed', 1)
  else
    redis.call('RPUSH', P .. 'f:q:' .. site, item)
    inring(site)
  end
end
`

// ARGV[3] item JSON, [4] site, [5] seen bucket, [6] seen field,
// [7] not-before ms (0: none), [8] MaxQueued.
// Returns 1 queued, 0 seen before or site dropped, -1 full.
const addScript = frontierPrelude + `
local site = ARGV[4]
if dropped(site) then return 0 end
local sk = P .. 'f:seen:' .. ARGV[5]
if redis.call('HEXISTS', sk, ARGV[6]) == 1 then return 0 end
if tonumber(redis.call('HGET', META, 'queued') or '0') >= tonumber(ARGV[8]) then return -1 end
redis.call('HSET', sk, ARGV[6], '')
redis.call('HINCRBY', META, 'seen', 1)
enqueue(site, ARGV[3], tonumber(ARGV[7]))
return 1
`

// ARGV[3] seen bucket, [4] seen field. Returns 1 if seen before.
const seenScript = frontierPrelude + `
local n = redis.call('HSETNX', P .. 'f:seen:' .. ARGV[3], ARGV[4], '')
if n == 1 then redis.call('HINCRBY', META, 'seen', 1) end
return 1 - n
`

// ARGV[3] MaxPages (0: none), [4] lease TTL ms, [5] the job's epoch.
// Returns {'lost'} when the epoch is missing or another,
// {'lease', id, item JSON, reclaimed, site}, {'done'} or
// {'wait', ms until the next delayed item or lease expiry, or -1}.
const nextScript = frontierPrelude + `
-- ARGV[5] is the epoch this worker joined: without it the job is gone.
if redis.call('GET', P .. 'f:epoch') ~= ARGV[5] then
  return {'lost'}
end
local ttl = tonumber(ARGV[4])
-- Leases that expired go back to the front of their site's queue.
local exp = redis.call('ZRANGEBYSCORE', P .. 'f:leases', '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(exp) do
  local site, item = endlease(id)
  if site and not dropped(site) then
    redis.call('LPUSH', P .. 'f:q:' .. site, item)
    redis.call('HINCRBY', META, 'queued', 1)
  end
  if site then inring(site) end
end
-- Delayed items that are due move to the end of their site's queue.
local dues = redis.call('ZRANGEBYSCORE', P .. 'f:due', '-inf', now, 'LIMIT', 0, 100)
for _, site in ipairs(dues) do
  local dk = P .. 'f:d:' .. site
  local items = redis.call('ZRANGEBYSCORE', dk, '-inf', now, 'LIMIT', 0, 1000)
  for _, it in ipairs(items) do redis.call('RPUSH', P .. 'f:q:' .. site, it) end
  if #items > 0 then
    redis.call('ZREMRANGEBYRANK', dk, 0, #items - 1)
    redis.call('HINCRBY', META, 'delayed', 0 - #items)
  end
  local first = redis.call('ZRANGE', dk, 0, 0, 'WITHSCORES')
  if #first > 0 then
    redis.call('ZADD', P .. 'f:due', first[2], site)
  else
    redis.call('ZREM', P .. 'f:due', site)
  end
  inring(site)
end
local m = redis.call('HMGET', META, 'pages', 'inflight', 'queued')
local pages, inflight, queued = tonumber(m[1] or '0'), tonumber(m[2] or '0'), tonumber(m[3] or '0')
local maxPages = tonumber(ARGV[3])
local limit = maxPages > 0 and pages + inflight >= maxPages
if not limit then
  for i = 1, 100 do
    local site = redis.call('LPOP', P .. 'f:ring')
    if not site then break end
    redis.call('SREM', P .. 'f:ringm', site)
    if tonumber(redis.call('HGET', P .. 'f:inflight', site) or '0') < perSite and not dropped(site) then
      local item = redis.call('LPOP', P .. 'f:q:' .. site)
      if item then
        local id = tostring(redis.call('HINCRBY', META, 'seq', 1))
        redis.call('ZADD', P .. 'f:leases', now + ttl, id)
        redis.call('HSET', P .. 'f:lease', id, site .. '\n' .. item)
        redis.call('HINCRBY', P .. 'f:inflight', site, 1)
        redis.call('HINCRBY', META, 'inflight', 1)
        redis.call('HINCRBY', META, 'queued', -1)
        inring(site)
        return {'lease', id, item, tostring(#exp), site}
      end
    end
  end
end
if inflight == 0 and (limit or queued == 0) then return {'done'} end
local wait = -1
local d = redis.call('ZRANGE', P .. 'f:due', 0, 0, 'WITHSCORES')
if #d > 0 then wait = tonumber(d[2]) - now end
local l = redis.call('ZRANGE', P .. 'f:leases', 0, 0, 'WITHSCORES')
if #l > 0 and (wait < 0 or tonumber(l[2]) - now < wait) then wait = tonumber(l[2]) - now end
return {'wait', tostring(wait)}
`

// ARGV[3] lease id, [4] "1" if counted. Returns 1, or 0 if the lease is not out.
const completeScript = frontierPrelude + `
local site = endlease(ARGV[3])
if not site then return 0 end
if ARGV[4] == '1' then
  redis.call('HINCRBY', META, 'pages', 1)
  redis.call('HINCRBY', P .. 'f:pages', site, 1)
end
inring(site)
return 1
`

// ARGV[3] lease id, [4] new item JSON, [5] not-before ms.
// Returns 1, or 0 if the lease is not out.
const retryScript = frontierPrelude + `
local site = endlease(ARGV[3])
if not site then return 0 end
if not dropped(site) then enqueue(site, ARGV[4], tonumber(ARGV[5])) end
inring(site)
return 1
`

// ARGV[3] lease TTL ms, [4...] lease ids. Renews those still out and
// returns the others.
const renewScript = frontierPrelude + `
local ttl = tonumber(ARGV[3])
local lost = {}
for i = 4, #ARGV do
  if redis.call('ZSCORE', P .. 'f:leases', ARGV[i]) then
    redis.call('ZADD', P .. 'f:leases', now + ttl, ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
`

// ARGV[3] site. Returns the number of queued items removed.
const dropScript = frontierPrelude + `
local site = ARGV[3]
redis.call('SADD', P .. 'f:dropped', site)
local n = redis.call('LLEN', P .. 'f:q:' .. site)
local d = redis.call('ZCARD', P .. 'f:d:' .. site)
redis.call('DEL', P .. 'f:q:' .. site, P .. 'f:d:' .. site)
redis.call('ZREM', P .. 'f:due', site)
if redis.call('SREM', P .. 'f:ringm', site) == 1 then redis.call('LREM', P .. 'f:ring', 0, site) end
-- (-0 would be sent as "-0", which HINCRBY refuses.)
if n + d > 0 then redis.call('HINCRBY', META, 'queued', 0 - (n + d)) end
if d > 0 then redis.call('HINCRBY', META, 'delayed', 0 - d) end
return n + d
`
