package delivery

import (
	"sync"
	"time"

	"github.com/imgate/imgate"
)

// checkCache remembers for a short time that a sender may write to a
// conversation, so that a conversation in full flow costs no store reads
// per message (the checks read the peer and the roster, or the group and
// the membership). Only passes are kept: a refusal is read again each
// time. A roster, group or user change made through this node's core
// (Core.Notifying) clears the cache at once; one made on another node
// takes effect here within the TTL.
type checkCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[checkKey]time.Time // expiry
}

type checkKey struct {
	app   string
	user  int64
	admin bool
	conv  imgate.Conv
}

// maxCheckEntries bounds the cache; when full it starts over.
const maxCheckEntries = 100_000

func newCheckCache(ttl time.Duration) *checkCache {
	return &checkCache{ttl: ttl, max: maxCheckEntries, entries: map[checkKey]time.Time{}}
}

// passed reports whether the check of k passed within the TTL.
func (c *checkCache) passed(k checkKey, now time.Time) bool {
	if c.ttl <= 0 {
		return false
	}
	c.mu.Lock()
	exp, ok := c.entries[k]
	c.mu.Unlock()
	return ok && now.Before(exp)
}

// pass records that the check of k passed at now.
func (c *checkCache) pass(k checkKey, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[k] = now.Add(c.ttl)
	c.mu.Unlock()
}

// reset forgets every pass: something that checks read has changed.
func (c *checkCache) reset() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}
