// Package logguard keeps a failure that repeats from flooding the log: a
// store outage fails every request, and each failure logs the same line.
//
// Handler passes the first Burst records of each message (at Warn and
// above) in every Interval and holds back the rest, counting them; when
// an interval in which it held some back ends, it logs one line saying
// how many, of which message, between which times. So an outage shows as
// its first lines, one summary per interval while it lasts, and the last
// summary when it ends. Records below Warn pass untouched.
package logguard

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Config tunes a Handler. Zero fields take the defaults.
type Config struct {
	// Burst is how many records of one message pass per interval. Default 3.
	Burst int
	// Interval is the period over which Burst applies. Default 10s.
	Interval time.Duration
}

// Handler wraps another handler; see the package comment. Call Close to
// log what is held back and stop its timer.
type Handler struct {
	next slog.Handler
	st   *state // shared by the handlers WithAttrs and WithGroup derive
}

type state struct {
	cfg   Config
	now   func() time.Time
	next  slog.Handler // the root handler, for summaries
	mu    sync.Mutex
	keys  map[key]*count
	stop  chan struct{}
	done  chan struct{}
	close sync.Once
}

// key is one message at one level.
type key struct {
	level slog.Level
	msg   string
}

// count is a key's record of the current interval.
type count struct {
	passed, held int
	first, last  time.Time // of the records held
}

// New returns a Handler over next.
func New(next slog.Handler, cfg Config) *Handler {
	if cfg.Burst <= 0 {
		cfg.Burst = 3
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	st := &state{cfg: cfg, now: time.Now, next: next, keys: map[key]*count{}, stop: make(chan struct{}), done: make(chan struct{})}
	go st.run()
	return &Handler{next: next, st: st}
}

func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn || h.st.pass(key{r.Level, r.Message}, r.Time) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), st: h.st}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), st: h.st}
}

// Close logs what is held back and stops the interval timer.
func (h *Handler) Close() {
	h.st.close.Do(func() {
		close(h.st.stop)
		<-h.st.done
	})
}

// pass counts a record of k and says whether it is to be logged.
func (s *state) pass(k key, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.keys[k]
	if c == nil {
		c = &count{}
		s.keys[k] = c
	}
	if c.passed < s.cfg.Burst {
		c.passed++
		return true
	}
	if c.held == 0 {
		c.first = at
	}
	c.held++
	c.last = at
	return false
}

func (s *state) run() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			s.flush()
			return
		case <-t.C:
			s.flush()
		}
	}
}

// flush logs a summary of each message held back in the interval that
// ends, and starts the next.
func (s *state) flush() {
	s.mu.Lock()
	held := map[key]count{}
	for k, c := range s.keys {
		if c.held > 0 {
			held[k] = *c
		}
	}
	clear(s.keys)
	s.mu.Unlock()
	for k, c := range held {
		r := slog.NewRecord(s.now(), k.level, "repeated log lines held back", 0)
		r.AddAttrs(slog.String("message", k.msg), slog.Int("held", c.held),
			slog.Time("first", c.first), slog.Time("last", c.last), slog.Duration("interval", s.cfg.Interval))
		_ = s.next.Handle(context.Background(), r)
	}
}
