package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// SendLimits bound how many messages one user, and one app, may send per
// second, whatever carries them: every device's WebSocket session, REST
// calls with the user's token, on every node. A WebSocket session has
// its own, smoother limit on top (gateway.Config.SendRate). Zero fields
// set no limit.
type SendLimits struct {
	// User is the messages one user may send per second. Sends by an
	// admin token (acting as a user or not) count against the app only:
	// back-office systems are trusted to pace themselves.
	User int
	// App is the messages all of one app's users and admin tokens may
	// send per second.
	App int
}

// rateLimited refuses a send over a user's or an app's SendLimits.
// MaxIM's web SDK shows 10028 as "too many attempts, try later".
func rateLimited(what string, n int) error {
	return imgate.Errorf(imgate.CodeTooManyAttempts, "too many messages: %s may send %d per second", what, n)
}

// Counter adds a node's counts to every node's: a bus shared by several
// nodes implements it (RedisBus). adds maps a key to what this node
// counted since its last call; the answer maps each key to the total of
// every node, this call's included. Keys expire after ttl.
type Counter interface {
	AddCounts(ctx context.Context, adds map[string]int64, ttl time.Duration) (map[string]int64, error)
}

// counterFlush is how often a node adds its counts to the shared ones
// and reads the totals back. Between two flushes each node admits on
// what it knows, so on n nodes a limit may be passed by up to n-1 nodes'
// admissions of one flush interval (a twentieth of a second's worth).
const counterFlush = 50 * time.Millisecond

// limiter counts sends in one-second windows, per user and per app: a
// window admits up to the limit, so two adjacent windows may together
// admit twice the limit within one second (at most).
type limiter struct {
	cfg     SendLimits
	now     func() time.Time
	shared  Counter // nil on one node
	log     *slog.Logger
	metrics *metrics.Metrics

	mu     sync.Mutex
	counts map[limitKey]*windowCount
	stop   chan struct{}
	done   chan struct{}
}

// limitKey is a user of an app, or (user 0) the app.
type limitKey struct {
	app  string
	user int64
}

func (k limitKey) String() string {
	if k.user == 0 {
		return "app:" + k.app
	}
	return "user:" + k.app + ":" + strconv.FormatInt(k.user, 10)
}

// windowCount is a key's count in its current window: what this node
// admitted and has not yet added to the shared count, and the total of
// every node as last read (this node's earlier admissions included).
type windowCount struct {
	window  int64 // unix second
	pending int64
	shared  int64
}

func newLimiter(cfg SendLimits, now func() time.Time, bus Bus, log *slog.Logger, m *metrics.Metrics) *limiter {
	l := &limiter{cfg: cfg, now: now, log: log, metrics: m, counts: map[limitKey]*windowCount{}}
	if cfg.User <= 0 && cfg.App <= 0 {
		return l
	}
	if c, ok := bus.(Counter); ok {
		l.shared = c
	}
	// On one node too: the loop drops past windows' counts, one entry
	// per user who sent, which would otherwise pile up.
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.flushLoop()
	return l
}

// admit counts n messages from the sender, or refuses them all when
// they would take the user or the app over its limit.
func (l *limiter) admit(from Sender, n int) error {
	if l.cfg.User <= 0 && l.cfg.App <= 0 {
		return nil
	}
	window := l.now().Unix()
	l.mu.Lock()
	defer l.mu.Unlock()
	user := limitKey{app: from.App, user: from.User}
	limitUser := l.cfg.User > 0 && !from.Admin && from.User != 0
	if limitUser && l.countLocked(user, window) >= int64(l.cfg.User) {
		l.metrics.RateLimited("user").Inc()
		return rateLimited("one user", l.cfg.User)
	}
	app := limitKey{app: from.App}
	if l.cfg.App > 0 && l.countLocked(app, window) >= int64(l.cfg.App) {
		l.metrics.RateLimited("app").Inc()
		return rateLimited("one app", l.cfg.App)
	}
	if limitUser {
		l.counts[user].pending += int64(n)
	}
	if l.cfg.App > 0 {
		l.counts[app].pending += int64(n)
	}
	return nil
}

// countLocked returns the key's count in the window, starting a new one
// if its last was earlier.
func (l *limiter) countLocked(k limitKey, window int64) int64 {
	c := l.counts[k]
	if c == nil {
		c = &windowCount{window: window}
		l.counts[k] = c
	} else if c.window != window {
		*c = windowCount{window: window}
	}
	return c.shared + c.pending
}

// flushLoop drops the counts of past windows and, on several nodes,
// adds the pending counts to the shared ones, every counterFlush.
func (l *limiter) flushLoop() {
	defer close(l.done)
	t := time.NewTicker(counterFlush)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.flush()
	}
}

// flush drops the counts of past windows and, on several nodes, adds
// what this node counted in the current window to every node's count and
// takes the totals back.
func (l *limiter) flush() {
	window := l.now().Unix()
	adds := map[string]int64{}
	keys := map[string]limitKey{}
	l.mu.Lock()
	for k, c := range l.counts {
		switch {
		case c.window < window:
			delete(l.counts, k)
		case l.shared != nil && c.pending > 0:
			name := k.String() + ":" + strconv.FormatInt(c.window, 10)
			adds[name], keys[name] = c.pending, k
			c.shared += c.pending // counted as if taken, until the answer
			c.pending = 0
		}
	}
	l.mu.Unlock()
	if len(adds) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	totals, err := l.shared.AddCounts(ctx, adds, 2*time.Second)
	if err != nil {
		// Each node then limits on its own counts: sends go on.
		l.log.Warn("send counts not shared; limits apply per node until the bus answers", "err", err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, total := range totals {
		if c := l.counts[keys[name]]; c != nil && c.window == window {
			c.shared = max(c.shared, total)
		}
	}
}

func (l *limiter) close() {
	if l.stop != nil {
		close(l.stop)
		<-l.done
	}
}

// String says what the limits are, for logs.
func (s SendLimits) String() string {
	return fmt.Sprintf("user %d/s, app %d/s", s.User, s.App)
}
