// Package job shares one crawl job between any number of worker processes
// through Redis: the frontier of URLs with leases, the stop list, the
// robots.txt store, the registry of workers and the complaint board.
//
// Redis is the coordinator. Every change that reads and writes several
// keys is one Lua script, which Redis runs atomically; the clock of leases,
// heartbeats and delays is the Redis server's TIME, not the workers'.
//
// # Failure
//
// Every call is bounded by Options.Timeout. When Redis cannot be reached or
// does not answer in time, methods return an error wrapping ErrUnavailable,
// and nothing is handed out that could not be recorded in Redis: a worker
// pauses and retries. The stop list fails closed (see StopList).
//
// # Key layout
//
// Every key of job JOB starts with "goodbot:{JOB}:". The hash tag {JOB}
// puts all of a job's keys in one slot of a Redis Cluster, so each script
// may touch any of them. Scripts derive per-site key names from the prefix
// passed to them; that is only valid because every name shares the tag.
// (The limiter keeps its per-site state under "goodbot:{JOB:SITE}", a
// different slot per site.)
//
// Frontier (SITE is a site key, ID a lease id, HHHH four hex digits):
//
//	f:meta       hash   queued, delayed, inflight, seen, pages, seq (lease ids)
//	f:seen:HHHH  hash   visited URLs: field = bytes 2..15 of SHA-256(URL), value ""
//	                    (the first two bytes name the bucket; 65,536 buckets)
//	f:q:SITE     list   ready items of SITE, compact JSON of frontier.Item
//	f:sites      set    every site ever queued
//	f:d:SITE     zset   delayed items of SITE, scored by not-before (ms)
//	f:due        zset   SITE scored by its earliest delayed item
//	f:ring       list   sites with ready items and a free lease slot, in turn
//	f:ringm      set    members of f:ring
//	f:inflight   hash   SITE -> leases out
//	f:pages      hash   SITE -> pages counted
//	f:dropped    set    sites whose items are refused
//	f:leases     zset   ID scored by lease expiry (ms, Redis TIME)
//	f:lease      hash   ID -> "SITE\n" + item JSON
//
// Stop list, robots.txt, registry and complaints:
//
//	stop              hash    SITE -> JSON of StopEntry
//	stop:ch           channel a message per change of the stop list
//	robots:ORIGIN     string  JSON of robots.Stored, expiring at Stored.Expires
//	robots:claim:ORIGIN string claim of the fetch, with a TTL
//	w:info            hash    worker id -> JSON of WorkerInfo
//	w:beat            zset    worker id scored by its last heartbeat (ms, Redis TIME)
//	w:progress        hash    worker id -> JSON of Progress
//	w:left            hash    worker id -> leave time (ms)
//	w:ckpt            hash    worker id -> latest signed checkpoint
//	c:seq             string  last complaint number
//	c:all             hash    complaint id -> JSON of Complaint
//	c:ack:ID          hash    worker id -> JSON of Ack
//	c:ch              channel complaint ids, as they are added
package job
