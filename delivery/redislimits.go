package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ Counter = (*RedisBus)(nil)

// AddCounts adds a node's send counts to every node's in Redis, in one
// pipeline of INCRBY and PEXPIRE per key (under the bus's prefix), and
// returns the totals.
func (b *RedisBus) AddCounts(ctx context.Context, adds map[string]int64, ttl time.Duration) (map[string]int64, error) {
	pipe := b.client.Pipeline()
	incrs := make(map[string]*redis.IntCmd, len(adds))
	for k, n := range adds {
		key := b.cfg.Prefix + ":count:" + k
		incrs[k] = pipe.IncrBy(ctx, key, n)
		pipe.PExpire(ctx, key, ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("delivery: add send counts: %w", err)
	}
	totals := make(map[string]int64, len(incrs))
	for k, c := range incrs {
		totals[k] = c.Val()
	}
	return totals, nil
}
