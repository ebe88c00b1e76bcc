package delivery

import (
	"sync"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// checkCache remembers that a sender may write to a conversation, so that
// a conversation in full flow costs no store reads per message (the
// checks read the peer and the roster, or the group and the membership).
// Only passes are kept: a refusal is read again each time.
//
// A roster, group or user change, on this node or another, reaches the
// cache as an Invalidation (see Core.Invalidate), which drops the passes
// that name its users or groups; so a pass may be trusted for a long
// ttl. While invalidations may be lost (the bus is degraded), passes are
// trusted only for the short degradedTTL, and a resync of the bus clears
// everything.
type checkCache struct {
	ttl, degradedTTL time.Duration
	max              int
	// degraded reports whether invalidations from other nodes may be
	// missing now; nil: never.
	degraded func() bool
	count    metrics.CacheCounters

	mu sync.Mutex
	// gen counts invalidations. A check read from the store is kept only
	// if none came between its start and its pass: it may predate the
	// change the invalidation announced.
	gen     uint64
	entries map[checkKey]time.Time // when the check passed
	// byUser and byGroup index the entries by the users (sender, chat
	// peer) and groups they name, so that an invalidation drops its
	// entries without a scan.
	byUser  map[subject]map[checkKey]struct{}
	byGroup map[subject]map[checkKey]struct{}
}

type checkKey struct {
	app   string
	user  int64
	admin bool
	conv  imgate.Conv
}

// subject is a user or a group of an app.
type subject struct {
	app string
	id  int64
}

// maxCheckEntries bounds the cache; when full it starts over.
const maxCheckEntries = 100_000

// checkCacheDegradedTTL is the most a pass is trusted while invalidations
// may be lost.
const checkCacheDegradedTTL = time.Second

func newCheckCache(ttl time.Duration, degraded func() bool, count metrics.CacheCounters) *checkCache {
	c := &checkCache{ttl: ttl, degradedTTL: min(ttl, checkCacheDegradedTTL), max: maxCheckEntries, degraded: degraded, count: count}
	c.clearLocked()
	return c
}

// passed reports whether the check of k passed recently enough to be
// trusted. On a miss it returns the generation to hand to pass.
func (c *checkCache) passed(k checkKey, now time.Time) (gen uint64, ok bool) {
	if c.ttl <= 0 {
		return 0, false
	}
	c.mu.Lock()
	at, found := c.entries[k]
	gen = c.gen
	c.mu.Unlock()
	if found && now.Sub(at) < c.ttl {
		if now.Sub(at) < c.degradedTTL || c.degraded == nil || !c.degraded() {
			c.count.Hits.Inc()
			return gen, true
		}
	}
	c.count.Misses.Inc()
	return gen, false
}

// pass records that the check of k, begun when passed returned gen,
// passed at now.
func (c *checkCache) pass(k checkKey, now time.Time, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		c.clearLocked()
	}
	c.entries[k] = now
	index(c.byUser, subject{k.app, k.user}, k)
	if k.conv.Kind == imgate.ConvGroup {
		index(c.byGroup, subject{k.app, k.conv.Peer}, k)
	} else {
		index(c.byUser, subject{k.app, k.conv.Peer}, k)
	}
}

func index(m map[subject]map[checkKey]struct{}, s subject, k checkKey) {
	keys := m[s]
	if keys == nil {
		keys = map[checkKey]struct{}{}
		m[s] = keys
	}
	keys[k] = struct{}{}
}

// drop forgets the passes that name any of inv's users (as sender or
// chat peer) or groups; all of them if inv.All.
func (c *checkCache) drop(inv Invalidation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if inv.All {
		c.clearLocked()
		return
	}
	for _, u := range inv.Users {
		c.dropLocked(c.byUser, subject{inv.App, u})
	}
	for _, g := range inv.Groups {
		c.dropLocked(c.byGroup, subject{inv.App, g})
	}
}

// dropLocked deletes the entries indexed under s, from every index.
func (c *checkCache) dropLocked(m map[subject]map[checkKey]struct{}, s subject) {
	for k := range m[s] {
		delete(c.entries, k)
		c.unindexLocked(k)
	}
	delete(m, s)
}

// unindexLocked removes k from the indexes of the subjects it names.
func (c *checkCache) unindexLocked(k checkKey) {
	unindex(c.byUser, subject{k.app, k.user}, k)
	if k.conv.Kind == imgate.ConvGroup {
		unindex(c.byGroup, subject{k.app, k.conv.Peer}, k)
	} else {
		unindex(c.byUser, subject{k.app, k.conv.Peer}, k)
	}
}

func unindex(m map[subject]map[checkKey]struct{}, s subject, k checkKey) {
	keys := m[s]
	delete(keys, k)
	if len(keys) == 0 {
		delete(m, s)
	}
}

func (c *checkCache) clearLocked() {
	c.entries = map[checkKey]time.Time{}
	c.byUser = map[subject]map[checkKey]struct{}{}
	c.byGroup = map[subject]map[checkKey]struct{}{}
}

// size is how many passes the cache holds.
func (c *checkCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
