package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlines hands the writers of a server the contexts that bound their
// writes, shared: a context made per write costs a timer and an
// allocation or two, which under a group's fan-out, one short write per
// member, is a good part of a delivery's cost. A shared context is made
// once per grain (a tenth of the timeout) with a deadline of its making
// plus the timeout plus the grain, so a write that takes it runs for at
// least the timeout, and at most the timeout and a grain, before its
// context ends; coder/websocket then closes the connection, and the
// write fails as slow (closeWriteError).
//
// coder/websocket's Write registers context.AfterFunc on the context,
// which on a context of package context adds a child to it (no goroutine,
// no timer) and removes it when the write returns. The zero value is
// ready.
type deadlines struct {
	cur atomic.Pointer[deadline]
	mu  sync.Mutex // serialises the making of a new one
}

type deadline struct {
	ctx     context.Context
	cancel  context.CancelFunc
	timeout time.Duration
	until   time.Time // hand ctx out until then
}

// grainOf is the time for which one context is handed out.
func grainOf(timeout time.Duration) time.Duration { return max(timeout/10, time.Millisecond) }

// get returns a context that ends no sooner than timeout from now, and
// at most a grain later.
func (d *deadlines) get(now time.Time, timeout time.Duration) context.Context {
	if c := d.cur.Load(); c != nil && c.timeout == timeout && now.Before(c.until) {
		return c.ctx
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.cur.Load(); c != nil && c.timeout == timeout && now.Before(c.until) {
		return c.ctx
	}
	grain := grainOf(timeout)
	// The context ends at its deadline on its own (and frees its timer
	// then): writes still in flight under it may not be cancelled sooner.
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(timeout+grain))
	d.cur.Store(&deadline{ctx: ctx, cancel: cancel, timeout: timeout, until: now.Add(grain)})
	return ctx
}
