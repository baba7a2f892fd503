package job

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Purge deletes every key of job from Redis (SCAN and UNLINK, in batches)
// and returns how many it deleted. Workers of the job must have stopped:
// whatever they write afterwards starts a new job of the same name.
func Purge(ctx context.Context, c redis.UniversalClient, job string) (int, error) {
	if err := checkName(job); err != nil {
		return 0, err
	}
	match := Prefix(job) + "*"
	purge := func(ctx context.Context, c redis.Cmdable) (int, error) {
		n := 0
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, match, 1000).Result()
			if err != nil {
				return n, err
			}
			if len(keys) > 0 {
				if err := c.Unlink(ctx, keys...).Err(); err != nil {
					return n, err
				}
				n += len(keys)
			}
			if cursor = next; cursor == 0 {
				return n, nil
			}
		}
	}
	var n int
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		// The job's keys share one slot, hence one master; scan them all.
		var total atomic.Int64 // ForEachMaster runs concurrently
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			k, err := purge(ctx, m)
			total.Add(int64(k))
			return err
		})
		n = int(total.Load())
	} else {
		n, err = purge(ctx, c)
	}
	if err != nil {
		return n, fmt.Errorf("job %s: purge: %w: %w", job, ErrUnavailable, err)
	}
	return n, nil
}
