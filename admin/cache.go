package admin

import (
	"sync"
	"time"

	"github.com/imgate/imgate/metrics"
)

// ttlCache is a bounded map of what the store answered, each value
// trusted for ttl after it was read. It spares the store the reads every
// request repeats (its app, the user it acts as). A change forgets the
// value once its invalidation reaches this node; one whose invalidation
// is lost (or that no invalidation announces) is seen within ttl.
type ttlCache[K comparable, V any] struct {
	ttl   time.Duration
	max   int
	now   func() time.Time
	count metrics.CacheCounters

	mu sync.Mutex
	// gen counts forgets. A value read from the store is kept only if no
	// forget came between the miss and the put: otherwise it may predate
	// the change that the forget announced.
	gen     uint64
	entries map[K]cached[V]
}

type cached[V any] struct {
	v     V
	until time.Time
}

func newTTLCache[K comparable, V any](ttl time.Duration, max int, now func() time.Time, count metrics.CacheCounters) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max, now: now, count: count, entries: map[K]cached[V]{}}
}

// get returns k's value if it was read within the TTL. On a miss it
// returns the generation to hand to put with the value read.
func (c *ttlCache[K, V]) get(k K) (v V, gen uint64, ok bool) {
	now := c.now()
	c.mu.Lock()
	e, found := c.entries[k]
	gen = c.gen
	c.mu.Unlock()
	if found && now.Before(e.until) {
		c.count.Hits.Inc()
		return e.v, gen, true
	}
	c.count.Misses.Inc()
	return v, gen, false
}

// put keeps the value of k read from the store after get returned gen.
func (c *ttlCache[K, V]) put(k K, v V, gen uint64) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		c.evictLocked(now)
	}
	c.entries[k] = cached[V]{v: v, until: now.Add(c.ttl)}
}

// evictLocked drops the expired entries and, if that frees too little,
// all of them: a cache that starts over only costs reads until it warms.
func (c *ttlCache[K, V]) evictLocked(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.until) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= c.max*9/10 {
		clear(c.entries)
	}
}

// forget drops k's value: it has changed, or is about to be read again.
func (c *ttlCache[K, V]) forget(k K) {
	c.mu.Lock()
	c.gen++
	delete(c.entries, k)
	c.mu.Unlock()
}

// forgetAll drops every value: changes may have been missed.
func (c *ttlCache[K, V]) forgetAll() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}
