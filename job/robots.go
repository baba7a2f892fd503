package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/crawler/robots"
)

// RobotsStore is a robots.Shared kept in Redis, so that each origin's
// robots.txt is fetched once per job: the first worker to need it claims
// the fetch, the others wait for its result. Each result expires from
// Redis at its Stored.Expires.
type RobotsStore struct {
	conn
	save *redis.Script
}

var _ robots.Shared = (*RobotsStore)(nil)

// saveRobotsScript stores ARGV[1] in KEYS[1] until ARGV[2] (Unix ms; 0:
// do not store) and deletes the claim KEYS[2].
const saveRobotsScript = `
local at = tonumber(ARGV[2])
if at > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', at)
end
redis.call('DEL', KEYS[2])
return 1
`

// NewRobotsStore returns job's robots.txt store. timeout bounds each Redis
// call (0: DefaultTimeout).
func NewRobotsStore(c redis.UniversalClient, job string, timeout time.Duration) (*RobotsStore, error) {
	cn, err := newConn(c, job, timeout, nil)
	if err != nil {
		return nil, err
	}
	return &RobotsStore{conn: cn, save: redis.NewScript(saveRobotsScript)}, nil
}

func checkOrigin(origin string) error {
	if origin == "" {
		return errors.New("job: robots: empty origin")
	}
	return nil
}

// Load implements robots.Shared.
func (s *RobotsStore) Load(ctx context.Context, origin string) (robots.Stored, bool, error) {
	if err := checkOrigin(origin); err != nil {
		return robots.Stored{}, false, err
	}
	raw, err := call(ctx, &s.conn, "robots load", func(ctx context.Context) ([]byte, error) {
		return s.c.Get(ctx, s.key("robots", origin)).Bytes()
	})
	if errors.Is(err, redis.Nil) {
		return robots.Stored{}, false, nil
	}
	if err != nil {
		return robots.Stored{}, false, err
	}
	var st robots.Stored
	if err := json.Unmarshal(raw, &st); err != nil {
		return robots.Stored{}, false, fmt.Errorf("job %s: robots load %s: %w", s.job, origin, err)
	}
	if !time.Now().Before(st.Expires) {
		return robots.Stored{}, false, nil
	}
	return st, true, nil
}

// Claim implements robots.Shared.
func (s *RobotsStore) Claim(ctx context.Context, origin string, ttl time.Duration) (bool, error) {
	if err := checkOrigin(origin); err != nil {
		return false, err
	}
	if ttl < time.Millisecond {
		return false, fmt.Errorf("job: robots claim %s: ttl %v under 1ms", origin, ttl)
	}
	return call(ctx, &s.conn, "robots claim", func(ctx context.Context) (bool, error) {
		return s.c.SetNX(ctx, s.key("robots", "claim", origin), 1, ttl).Result()
	})
}

// Save implements robots.Shared. A Stored that has already expired is not
// kept, but the claim is released.
func (s *RobotsStore) Save(ctx context.Context, origin string, st robots.Stored) error {
	if err := checkOrigin(origin); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("job %s: robots save %s: %w", s.job, origin, err)
	}
	at := int64(0)
	if st.Expires.After(time.Now()) {
		at = st.Expires.UnixMilli()
	}
	return s.do(ctx, "robots save", func(ctx context.Context) error {
		return s.save.Run(ctx, s.c, []string{s.key("robots", origin), s.key("robots", "claim", origin)}, b, at).Err()
	})
}
