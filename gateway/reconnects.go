package gateway

import (
	"sync"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// reconnects remembers, for a while after a device's session ends, the
// device's record and the user's groups as the session last knew them,
// so that the device's reconnect to this node can route its groups
// before it reads the store, and read it once (login.go). Nothing in it
// is trusted: the login's read checks the device and the groups, and the
// login falls back to the full path, or fixes the routing, where they
// differ. A wrong entry therefore costs a read, never a message.
type reconnects struct {
	ttl     time.Duration
	max     int // entries kept at most; beyond, new ones are not kept
	lookups metrics.CacheCounters

	mu      sync.Mutex
	entries map[deviceKey]reconnect
}

type deviceKey struct {
	app  string
	user int64
	sn   uint32
}

type reconnect struct {
	device imgate.Device
	groups []int64
	until  time.Time
}

// maxReconnects bounds the entries (each ~200 bytes and its groups).
const maxReconnects = 100_000

func newReconnects(ttl time.Duration, lookups metrics.CacheCounters) *reconnects {
	return &reconnects{ttl: ttl, max: maxReconnects, lookups: lookups, entries: map[deviceKey]reconnect{}}
}

// put remembers a device's state at the end of its session. A nil
// reconnects remembers nothing.
func (r *reconnects) put(d imgate.Device, groups []int64, now time.Time) {
	if r == nil || r.ttl <= 0 || d.SN == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.entries) >= r.max {
		r.pruneLocked(now)
		if len(r.entries) >= r.max {
			return
		}
	}
	r.entries[deviceKey{d.AppID, d.UserID, d.SN}] = reconnect{device: d, groups: groups, until: now.Add(r.ttl)}
}

// take returns and forgets the state remembered of a device, if it is
// recent enough.
func (r *reconnects) take(app string, user int64, sn uint32, now time.Time) (reconnect, bool) {
	if r == nil || sn == 0 {
		return reconnect{}, false
	}
	k := deviceKey{app, user, sn}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[k]
	delete(r.entries, k)
	return e, ok && now.Before(e.until)
}

// pruneLocked drops the expired entries.
func (r *reconnects) pruneLocked(now time.Time) {
	for k, e := range r.entries {
		if !now.Before(e.until) {
			delete(r.entries, k)
		}
	}
}
