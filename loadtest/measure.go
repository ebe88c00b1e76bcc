package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imgate/imgate/client"
)

// run is a scenario's sending phase: who sends, who must receive.
type run struct {
	senders  []sender
	from     []uint64  // the senders' user ids
	conv     uint64    // the conversation the receivers get it in; 0: the sender's chat
	kind     string    // what the receivers' inboxes expect (chat, group)
	watch    []*device // the devices that must receive, each with an inbox
	all      []*device // every device online
	fanout   int64     // devices that must receive each message
	rate     float64
	duration time.Duration
	// pairs names, for the senders' outboxes, who must receive what.
	pairs func(outs []*outbox) []pair
}

// settle is how long the run still watches for duplicates once every
// expected delivery has arrived.
const settle = time.Second

// measure sends on schedule while the watched devices record what they
// receive, waits for stragglers, and fills rep.
func (r *Runner) measure(ctx context.Context, rep *Report, x run) {
	t := newTracker()
	stopWatch := watch(ctx, x.watch, t)
	stopRedial := r.redial(ctx, x.all)
	defer stopRedial()
	hctx, stopBeat := context.WithCancel(ctx)
	defer stopBeat()
	go heartbeat(hctx, x.all)

	p := newPacer(x.rate, x.duration)
	bar := r.bars.bar(p.total*x.fanout, "deliver", "msgs")
	bctx, stopBar := context.WithCancel(ctx)
	barDone := make(chan struct{})
	go func() {
		defer close(barDone)
		follow(bctx, bar, &t.received, func() string { return fmt.Sprintf("sent %d/%d, delivered", p.sent.Load(), p.total) })
	}()
	start := time.Now()
	outs := make([]*outbox, len(x.senders))
	for i := range outs {
		outs[i] = &outbox{from: x.from[i], conv: x.conv, kind: x.kind}
	}
	send := p.run(ctx, x.senders, outs)
	r.await(ctx, t, send.Stored*x.fanout)
	phase := rep.Server.endPhase(ctx, phaseSend)
	r.settle(ctx)
	stopBar()
	<-barDone
	end(bar)
	rep.Redials = stopRedial()
	stopWatch()

	rep.Disconnects, rep.FirstDisconnect = disconnects(x.all)
	del := account(x.pairs(outs), x.watch)
	if last := t.lastAt.Load(); last > 0 {
		del.Seconds = time.Unix(0, last).Sub(start).Seconds()
		del.PerSecond = float64(del.Delivered) / del.Seconds
	}
	rep.Send, rep.Deliveries, rep.Latency = &send, &del, t.latency()
	phase.count(0, send.Stored, del.Delivered)
	rep.Faults = r.cfg.Faults
	rep.judge()
}

// watch makes each device record what it receives, as it receives it,
// across reconnects, until the returned function is called; that function
// returns once the devices have recorded everything they hold.
func watch(ctx context.Context, devs []*device, t *tracker) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Go(func() { watchDevice(ctx, d, t) })
	}
	return func() {
		cancel()
		wg.Wait()
		for _, d := range devs {
			c := d.cur.Load()
			c.sess.Read(func(v client.View) { d.in.take(c.sess, c.since, v, t) })
		}
	}
}

// watchDevice records what d receives until ctx ends, following it to
// each new connection.
func watchDevice(ctx context.Context, d *device, t *tracker) {
	for {
		c := d.cur.Load()
		// The condition runs under the session's lock on every change and
		// never holds: it only reads what is new.
		c.sess.Wait(ctx, func(v client.View) bool { d.in.take(c.sess, c.since, v, t); return false })
		if ctx.Err() != nil {
			return
		}
		// The connection ended: count what its session dropped, and wait
		// for the device's next one.
		c.sess.Read(func(v client.View) { d.in.take(c.sess, c.since, v, t); d.in.retire(c.sess, v) })
		for d.cur.Load() == c {
			if !sleepUntil(ctx, time.Now().Add(10*time.Millisecond)) {
				return
			}
		}
	}
}

// await waits until want deliveries have arrived, or Grace has passed,
// or ctx ends.
func (r *Runner) await(ctx context.Context, t *tracker, want int64) {
	r.awaitCount(ctx, &t.received, want)
}

// awaitCount waits until n reaches want, or Grace has passed, or ctx
// ends. The caller then settles, once it has ended the phase: the
// server's work ends with the last delivery, not a settle later.
func (r *Runner) awaitCount(ctx context.Context, n *atomic.Int64, want int64) {
	grace := time.NewTimer(r.cfg.Grace)
	defer grace.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for n.Load() < want {
		select {
		case <-ctx.Done():
			return
		case <-grace.C:
			return
		case <-tick.C:
		}
	}
}

// settle waits a little longer for late duplicates after awaitCount.
func (r *Runner) settle(ctx context.Context) {
	sleepUntil(ctx, time.Now().Add(min(settle, r.cfg.Grace)))
}
