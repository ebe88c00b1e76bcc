package gateway

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
)

// The Stored events of one conversation can reach the hub out of order:
// the core's writers commit batches in seq order but publish them from
// separate goroutines, and events from other nodes come over separate
// Redis channels. A session that sees an event ahead of a gap sends a
// NOTICE and the device pulls: right, but for a group each such gap
// costs a pull per online member. So the hub holds an event that comes
// ahead of a gap for up to holdEarly, and delivers it as soon as the
// events before it arrive; if they do not (lost on the bus, or never
// published by a node that died), it delivers what it holds anyway and
// sessions fall back to NOTICE and pull.
const holdEarly = 200 * time.Millisecond

// idleOrder is how long a conversation's order is kept after its last
// event; the hub forgets it after that (sweep).
const idleOrder = time.Minute

// orderKey names an ordered stream of Stored events: a conversation, or
// a chat's events narrowed to one of its users (the Redis bus delivers a
// chat's events once per user channel, each copy in its channel's order).
type orderKey struct {
	app  string
	kind imgate.ConvKind
	a, b int64
	user int64
}

func keyOfEvent(e *delivery.Event) orderKey {
	k := orderKey{app: e.App, kind: e.Conv.Kind, a: e.Conv.Peer}
	if e.Conv.Kind == imgate.ConvChat {
		k.a, k.b = min(e.From, e.Conv.Peer), max(e.From, e.Conv.Peer)
		if len(e.Users) == 1 {
			k.user = e.Users[0]
		}
	}
	return k
}

// convOrder is the delivery order of one stream: mu is held while its
// events are delivered, so that two writers' events reach sessions in
// the order admitted.
type convOrder struct {
	mu    sync.Mutex
	last  int64             // LastSeq of the last event delivered
	early []*delivery.Event // ahead of a gap, by FirstSeq
	timer *time.Timer
	seen  time.Time
}

// orders holds the hub's streams.
type orders struct {
	mu    sync.Mutex
	m     map[orderKey]*convOrder
	swept time.Time
	// held counts the events held ahead of a gap, late those delivered
	// when the hold ran out rather than when the gap closed.
	held, late atomic.Int64
}

func (o *orders) get(k orderKey, now time.Time) *convOrder {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[orderKey]*convOrder{}
	}
	if now.Sub(o.swept) > idleOrder {
		o.sweepLocked(now.Add(-idleOrder))
		o.swept = now
	}
	c := o.m[k]
	if c == nil {
		c = &convOrder{}
		o.m[k] = c
	}
	c.seen = now
	return c
}

// sweepLocked forgets the streams idle since before cutoff. o.mu is
// held.
func (o *orders) sweepLocked(cutoff time.Time) {
	for k, c := range o.m {
		if c.mu.TryLock() {
			if c.seen.Before(cutoff) && len(c.early) == 0 {
				delete(o.m, k)
			}
			c.mu.Unlock()
		}
	}
}

// deliverStored delivers a Stored event in its stream's order.
func (h *Hub) deliverStored(e *delivery.Event) {
	k := keyOfEvent(e)
	c := h.orders.get(k, time.Now())
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.last == 0 || e.FirstSeq <= c.last+1:
		// The first of the stream here, the next one, or one older than
		// what was delivered (a session takes or skips it by its cursor).
		h.deliverNow(e)
		c.last = max(c.last, e.LastSeq)
		c.drain(h, false)
	default:
		i, _ := slices.BinarySearchFunc(c.early, e, func(a, b *delivery.Event) int { return int(a.FirstSeq - b.FirstSeq) })
		c.early = slices.Insert(c.early, i, e)
		h.orders.held.Add(1)
		if c.timer == nil {
			c.timer = time.AfterFunc(holdEarly, func() {
				c.mu.Lock()
				defer c.mu.Unlock()
				c.timer = nil
				c.drain(h, true)
			})
		}
	}
}

// drain delivers the held events that now follow, or all of them when
// the hold ran out. c.mu is held.
func (c *convOrder) drain(h *Hub, all bool) {
	n := 0
	for _, e := range c.early {
		if !all && e.FirstSeq > c.last+1 {
			break
		}
		if all && e.FirstSeq > c.last+1 {
			h.orders.late.Add(1)
		}
		h.deliverNow(e)
		c.last = max(c.last, e.LastSeq)
		n++
	}
	c.early = slices.Delete(c.early, 0, n)
	if len(c.early) == 0 && c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}
