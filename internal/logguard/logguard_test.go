package logguard

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the handler's timer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

// TestHoldsBackRepeats logs 200 identical errors in a burst (an outage),
// a different warning and info lines: the first 3 errors pass, then one
// summary says 197 were held back; the warning and the info lines pass.
func TestHoldsBackRepeats(t *testing.T) {
	var out syncBuffer
	g := New(slog.NewTextHandler(&out, nil), Config{Burst: 3, Interval: time.Hour})
	log := slog.New(g).With("node", "n0")
	for i := range 200 {
		log.Error("store failed", "i", i)
		if i%50 == 0 {
			log.Info("request", "i", i)
		}
	}
	log.Warn("bus degraded")
	g.Close()
	var errors, infos, warns, summaries int
	for _, l := range out.lines() {
		switch {
		case strings.Contains(l, "repeated log lines held back"):
			summaries++
			if !strings.Contains(l, `message="store failed"`) || !strings.Contains(l, "held=197") {
				t.Errorf("summary %q, want 197 of \"store failed\" held", l)
			}
		case strings.Contains(l, "store failed"):
			errors++
			if !strings.Contains(l, "node=n0") {
				t.Errorf("passed line %q lost its attributes", l)
			}
		case strings.Contains(l, "level=INFO"):
			infos++
		case strings.Contains(l, "bus degraded"):
			warns++
		}
	}
	if errors != 3 || summaries != 1 || infos != 4 || warns != 1 {
		t.Errorf("errors %d, summaries %d, infos %d, warnings %d; want 3, 1, 4, 1:\n%s",
			errors, summaries, infos, warns, strings.Join(out.lines(), "\n"))
	}
}

// TestNextInterval checks that a message passes again, Burst times, in
// the interval after one in which it was held back, with the summary
// between.
func TestNextInterval(t *testing.T) {
	var out syncBuffer
	g := New(slog.NewTextHandler(&out, nil), Config{Burst: 2, Interval: 50 * time.Millisecond})
	defer g.Close()
	log := slog.New(g)
	for range 5 {
		log.Error("down")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(strings.Join(out.lines(), "\n"), "held=3") {
		if time.Now().After(deadline) {
			t.Fatalf("no summary of 3 held back:\n%s", strings.Join(out.lines(), "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	log.Error("down")
	lines := out.lines()
	if last := lines[len(lines)-1]; !strings.Contains(last, `msg=down`) {
		t.Errorf("after the summary the message passes again; last line %q", last)
	}
}
