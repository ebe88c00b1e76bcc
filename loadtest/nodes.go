package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/imgate/imgate/client"
)

// nodes are imgate's nodes as the tool sees them: each one's REST base
// and WebSocket URL, and whether it is taken for down. A node that
// refused a connection is skipped for downFor, then tried again, as an
// app's load balancer does with a failed backend.
type nodes struct {
	rest, ws []string
	down     []atomic.Int64 // unix ns until which node i is skipped
	next     atomic.Uint64
	now      func() time.Time
}

// downFor is how long a node that refused a connection is skipped.
const downFor = time.Second

func newNodes(rest, ws []string) *nodes {
	return &nodes{rest: rest, ws: ws, down: make([]atomic.Int64, len(rest)), now: time.Now}
}

func (n *nodes) len() int { return len(n.rest) }

func (n *nodes) up(i int) bool { return n.down[i].Load() <= n.now().UnixNano() }

// markDown skips node i for downFor.
func (n *nodes) markDown(i int) { n.down[i].Store(n.now().Add(downFor).UnixNano()) }

// pick is the next node in turn that is not down; when all are down, the
// next in turn.
func (n *nodes) pick() int {
	first := int((n.next.Add(1) - 1) % uint64(n.len()))
	return n.from(first)
}

// after is the first node after i, in order, that is not down; i itself
// when it is the only one up, or when all are down the one after i. A
// device the server dropped reconnects there, as an app reaches another
// node behind its load balancer.
func (n *nodes) after(i int) int { return n.from((i + 1) % n.len()) }

// home is node i unless it is down, then the next one up.
func (n *nodes) home(i int) int { return n.from(i % n.len()) }

func (n *nodes) from(first int) int {
	for k := range n.len() {
		if i := (first + k) % n.len(); n.up(i) {
			return i
		}
	}
	return first
}

// refusedConn tells whether err is a connection the node refused or
// could not be dialled: the request never reached it, so it can go to
// another node without being sent twice.
func refusedConn(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) && op.Op == "dial"
}

// Back-off of a device coming back: from backoffMin, doubling up to
// backoffMax, each wait jittered by up to half, until comeBackWithin.
const (
	backoffMin     = 50 * time.Millisecond
	backoffMax     = 2 * time.Second
	comeBackWithin = time.Minute
)

// comeBack logs d in again with its serial number and syncs as an app
// does after losing its connection (UNREAD, then pulls), on node first
// or, while that fails, on the next nodes in turn, with back-off, until
// it succeeds, ctx ends or comeBackWithin passes.
func (r *Runner) comeBack(ctx context.Context, d *device, first int, hc *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, comeBackWithin)
	defer cancel()
	wait := backoffMin
	node := first
	for {
		err := r.reconnect(ctx, d, node, hc)
		if err == nil {
			if _, err = syncUnread(ctx, d.session()); err == nil {
				return nil
			}
			d.session().Conn().Close()
		}
		if !sleepUntil(ctx, time.Now().Add(wait/2+rand.N(wait/2+1))) {
			return fmt.Errorf("loadtest: device of %s did not come back: %w", d.user.name, err)
		}
		wait = min(2*wait, backoffMax)
		node = r.nodes.after(node)
	}
}

// Redials is what became of devices whose connection the server ended
// during a run: a node killed, drained or stalled, a slow consumer
// closed. Each came back, as an app does, to another node with back-off
// (comeBack), then synced.
type Redials struct {
	// Drops counts connections the server ended, by reason (the close
	// code and its reason, or the connection's error).
	Drops    int            `json:"drops"`
	ByReason map[string]int `json:"by_reason,omitempty"`
	// Back counts the devices that came back; Failed the ones that
	// gave up (FirstError says why).
	Back       int    `json:"back"`
	Failed     int    `json:"failed"`
	FirstError string `json:"first_error,omitempty"`
	// BackMs is each drop's time until the device was back and synced.
	BackMs *Latency `json:"back_ms,omitempty"`
}

// redial brings devs back whenever the server ends one's connection,
// until the returned function is called; that function waits for the
// devices coming back and says how it went.
func (r *Runner) redial(ctx context.Context, devs []*device) func() *Redials {
	ctx, cancel := context.WithCancel(ctx)
	dl := r.dialers(len(devs))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		byCause = map[string]int{}
		ret     = newReturns()
	)
	record := func(reason string, took time.Duration, err error) {
		mu.Lock()
		byCause[reason]++
		mu.Unlock()
		ret.add(took, err)
	}
	for _, d := range devs {
		if d == nil {
			continue
		}
		wg.Go(func() {
			for {
				c, ok := d.dropped(ctx)
				if !ok {
					return
				}
				at := time.Now()
				err := r.comeBack(ctx, d, r.nodes.after(c.node), dl.pick())
				d.busy.Store(false)
				if ctx.Err() != nil && err != nil {
					return // the run ended; the device is not counted
				}
				record(dropReason(c.sess), time.Since(at), err)
			}
		})
	}
	var (
		once sync.Once
		rd   *Redials
	)
	return func() *Redials {
		once.Do(func() {
			cancel()
			wg.Wait()
			rd = &Redials{ByReason: byCause, Back: ret.back, Failed: ret.failed, FirstError: ret.first, BackMs: summarize(ret.took)}
			for _, n := range byCause {
				rd.Drops += n
			}
		})
		return rd
	}
}

// returns counts devices coming back (churn, redial): how many did, how
// many gave up and the first one's error, and each one's time until
// back and synced.
type returns struct {
	mu     sync.Mutex
	back   int
	failed int
	first  string
	took   *hdrhistogram.Histogram
}

func newReturns() *returns { return &returns{took: newHistogram()} }

func (r *returns) add(took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failed++
		if r.first == "" {
			r.first = err.Error()
		}
		return
	}
	r.back++
	recordDuration(r.took, took)
}

// dropped waits until the server ends d's connection and answers it,
// with d taken (busy) for the caller to bring back; false once ctx ends.
// A connection the tool ended (churn) is left to the one that ended it.
func (d *device) dropped(ctx context.Context) (*conn, bool) {
	for {
		c := d.cur.Load()
		select {
		case <-ctx.Done():
			return nil, false
		case <-c.sess.Done():
		}
		if d.busy.CompareAndSwap(false, true) {
			if d.cur.Load() == c {
				return c, true
			}
			d.busy.Store(false)
			continue
		}
		// Someone else has the device: wait until it lets go.
		for d.busy.Load() && d.cur.Load() == c {
			if !sleepUntil(ctx, time.Now().Add(10*time.Millisecond)) {
				return nil, false
			}
		}
	}
}

// dropReason names why a session ended: its close code and reason, or
// "no close frame" when the connection just broke.
func dropReason(s *client.Session) string {
	var reason string
	s.Read(func(v client.View) {
		code := client.CloseStatus(v.Err())
		if code < 0 {
			reason = "no close frame"
			return
		}
		reason = fmt.Sprintf("close %d", code)
		if _, text, ok := strings.Cut(v.Err().Error(), "reason = "); ok {
			reason += " " + strings.Trim(text, `"`)
		}
	})
	return reason
}

// live is d's session once it is connected: while the device is coming
// back, a send waits for it as an app's would, until ctx ends.
func (d *device) live(ctx context.Context) (*client.Session, error) {
	for {
		s := d.session()
		select {
		case <-s.Done():
		default:
			return s, nil
		}
		if !sleepUntil(ctx, time.Now().Add(10*time.Millisecond)) {
			return nil, fmt.Errorf("loadtest: device of %s not connected: %w", d.user.name, ctx.Err())
		}
	}
}

// formatCounts writes counts by key, largest first: "a 3, b 1".
func formatCounts[N int | int64](m map[string]N) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
