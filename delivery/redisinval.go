package delivery

import (
	"context"
	"sync"
	"time"
)

// Invalidations travel on one channel that every node subscribes to. They
// are few (one per roster, group or user change) and each may leave a
// stale pass in other nodes' caches for a whole TTL if lost, so unlike
// events they are not dropped when Redis fails: the publishing node keeps
// them and retries until Redis takes them.

// maxPendingInvalidations bounds the invalidations a node keeps while
// Redis does not take them; beyond it they collapse into one that clears
// every cache, which costs the other nodes reads, never a stale pass.
const maxPendingInvalidations = 1000

// Bounds of the pause between attempts to publish pending invalidations.
const (
	invalRetryMin = 100 * time.Millisecond
	invalRetryMax = 2 * time.Second
)

// invalOutbox holds the invalidations waiting to be published.
type invalOutbox struct {
	mu      sync.Mutex
	pending []Invalidation
	wake    chan struct{}
}

// add queues invs, collapsing the queue into one invalidation of
// everything when it is full or already holds one.
func (o *invalOutbox) add(invs ...Invalidation) {
	o.mu.Lock()
	for _, inv := range invs {
		if inv.All || len(o.pending) >= maxPendingInvalidations || (len(o.pending) == 1 && o.pending[0].All) {
			o.pending = []Invalidation{{All: true}}
			continue
		}
		o.pending = append(o.pending, inv)
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// take empties the queue.
func (o *invalOutbox) take() []Invalidation {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.pending
	o.pending = nil
	return out
}

// invalChannel is the channel of invalidations.
func (b *RedisBus) invalChannel() string { return b.cfg.Prefix + ":inval" }

// OnInvalidation sets the function that applies invalidations from other
// nodes, and one of All after each resync.
func (b *RedisBus) OnInvalidation(fn func(Invalidation)) { b.onInval.Store(&fn) }

// PublishInvalidation queues inv for the other nodes. It never blocks;
// the bus publishes it as soon as Redis takes it.
func (b *RedisBus) PublishInvalidation(_ context.Context, inv Invalidation) error {
	b.inval.add(inv)
	return nil
}

// invalLoop publishes queued invalidations, all that are waiting in one
// pipeline, and keeps those Redis did not take for the next attempt,
// pausing longer after each failure. At Close it tries once more, unless
// publishing is failing.
func (b *RedisBus) invalLoop() {
	pause := time.Duration(0)
	var retry <-chan time.Time // set while a failure's pause runs
	for {
		select {
		case <-b.stop:
			if failing, _ := b.lastErr.Load().(string); failing == "" {
				b.publishInvalidations(closeFlushTimeout)
			}
			return
		case <-b.inval.wake:
			if retry != nil {
				continue // the pause runs on; what came is sent after it
			}
		case <-retry:
			retry = nil
		}
		if b.publishInvalidations(5 * time.Second) {
			pause = 0
			continue
		}
		pause = min(max(2*pause, invalRetryMin), invalRetryMax)
		retry = time.After(pause)
	}
}

// publishInvalidations publishes what is queued within timeout; false,
// with it queued again, if Redis did not take it.
func (b *RedisBus) publishInvalidations(timeout time.Duration) bool {
	invs := b.inval.take()
	if len(invs) == 0 {
		return true
	}
	batch := make([]pubItem, 0, len(invs))
	for _, inv := range invs {
		payload, err := encodeInvalidation(b.cfg.Node, inv)
		if err != nil {
			b.log.Error("invalidation not published", "err", err)
			continue
		}
		batch = append(batch, pubItem{channels: []string{b.invalChannel()}, payload: payload})
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.flush(ctx, batch); err != nil {
		b.inval.add(invs...)
		return false
	}
	return true
}

// invalidated applies an invalidation received on the invalidation
// channel. It runs in the read loop rather than a worker, so that it is
// never dropped behind a queue of events: invalidations are few and
// cheap to apply.
func (b *RedisBus) invalidated(payload string) {
	inv, node, err := decodeInvalidation([]byte(payload))
	if err != nil {
		b.log.Warn("bad invalidation on the bus", "err", err)
		return
	}
	if fn := b.onInval.Load(); fn != nil && node != b.cfg.Node {
		(*fn)(inv)
	}
}
