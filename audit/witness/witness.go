// Package witness publishes the signed checkpoints of goodbot operation logs
// to Redis, so that in distributed mode each worker's log is witnessed by
// the others and by whoever audits the crawl.
//
// A checkpoint in Redis is held outside the worker that signed it: if that
// worker's log is later cut back or rewritten, the witnessed checkpoint no
// longer verifies against it (goodbot audit verify --checkpoint). Redis
// also refuses a checkpoint smaller than one already witnessed for the same
// log, so a rollback is refused at the time it is attempted.
package witness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key. The braces make it a hash tag, so that
// all keys live in one Redis Cluster slot and the script may touch them.
const DefaultPrefix = "{goodbot:audit}:"

// Redis is an audit.Anchor publishing checkpoints to Redis:
//
//	<prefix>log:<origin>   list of every signed checkpoint, oldest first
//	<prefix>size           hash origin -> size of the latest checkpoint
//	<prefix>latest         hash origin -> the latest signed checkpoint
//
// With a Cosigner it is also a C2SP witness: it cosigns each checkpoint
// that extends the last one it cosigned for the log, and keeps
//
//	<prefix>cosigned       hash origin -> the latest checkpoint with its cosignature
//	<prefix>cosig:<origin> list of every cosigned checkpoint, oldest first
type Redis struct {
	Client redis.Cmdable
	Prefix string // default DefaultPrefix
	// Cosigner, if set, cosigns checkpoints (see Cosigner).
	Cosigner *Cosigner
}

// JobPrefix is the Prefix under which the workers of the distributed job
// named job witness each other's checkpoints.
func JobPrefix(job string) string { return "{goodbot:" + job + ":audit}:" }

func (r Redis) prefix() string {
	if r.Prefix == "" {
		return DefaultPrefix
	}
	return r.Prefix
}

// publishScript appends the checkpoint unless a larger one was witnessed, and
// returns the list length and the Redis server time.
var publishScript = redis.NewScript(`
local size = tonumber(ARGV[2])
local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
if size < cur then
  return redis.error_reply('ROLLBACK checkpoint of size ' .. ARGV[2] .. ' is smaller than the witnessed size ' .. cur)
end
local n = redis.call('RPUSH', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
local t = redis.call('TIME')
return {n, t[1], t[2]}
`)

// ErrRollback is returned when a checkpoint is smaller than one already
// witnessed for the same log.
var ErrRollback = errors.New("witness: checkpoint rolls the log back")

// Receipt is what Anchor returns, as JSON.
type Receipt struct {
	Kind  string    `json:"kind"` // "redis"
	Key   string    `json:"key"`
	Index int64     `json:"index"` // position in the list
	Time  time.Time `json:"time"`  // Redis server time
	// Cosignature is the witness's signature line over the checkpoint
	// (C2SP tlog-cosignature), with a Cosigner.
	Cosignature string `json:"cosignature,omitempty"`
}

// Anchor implements audit.Anchor. With a Cosigner and no consistency
// proof, it cosigns only a log's first checkpoint or one of the size
// already cosigned; the log calls AnchorConsistent, which has the proof.
func (r Redis) Anchor(ctx context.Context, checkpoint []byte) ([]byte, error) {
	return r.AnchorConsistent(ctx, checkpoint, nil)
}

// publish appends the checkpoint to Redis and returns the receipt.
func (r Redis) publish(ctx context.Context, checkpoint []byte, cosignature string) ([]byte, error) {
	origin, size, err := header(checkpoint)
	if err != nil {
		return nil, err
	}
	p := r.prefix()
	key := p + "log:" + origin
	res, err := publishScript.Run(ctx, r.Client, []string{key, p + "size", p + "latest"}, origin, size, checkpoint).Int64Slice()
	if err != nil {
		if strings.Contains(err.Error(), "ROLLBACK") {
			return nil, fmt.Errorf("%w: %v", ErrRollback, err)
		}
		return nil, fmt.Errorf("witness: publish checkpoint: %w", err)
	}
	if len(res) != 3 {
		return nil, fmt.Errorf("witness: unexpected reply %v", res)
	}
	return json.Marshal(Receipt{Kind: "redis", Key: key, Index: res[0] - 1, Time: time.Unix(res[1], res[2]*1000).UTC(), Cosignature: cosignature})
}

// Latest returns the latest checkpoint witnessed for origin, or nil.
func (r Redis) Latest(ctx context.Context, origin string) ([]byte, error) {
	return r.hget(ctx, "latest", origin)
}

// All returns every checkpoint witnessed for origin, oldest first.
func (r Redis) All(ctx context.Context, origin string) ([][]byte, error) {
	return r.list(ctx, "log:"+origin)
}

// hget returns field of the hash <prefix>key, or nil if it is not set.
func (r Redis) hget(ctx context.Context, key, field string) ([]byte, error) {
	b, err := r.Client.HGet(ctx, r.prefix()+key, field).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	return b, nil
}

// list returns the list <prefix>key.
func (r Redis) list(ctx context.Context, key string) ([][]byte, error) {
	ss, err := r.Client.LRange(ctx, r.prefix()+key, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out, nil
}

// header reads the origin and size lines of a checkpoint. The signature is
// not checked here: the witness records what it was given; verifiers check
// signatures against the log's keys.
func header(cp []byte) (string, int64, error) {
	origin, size, _, err := parse(cp)
	return origin, size, err
}
