package gateway

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// lifeConn records a session's writes and closes in order, and what
// should never happen: writes at once, writes after the close frame.
type lifeConn struct {
	mu       sync.Mutex
	events   []string // "w:<data>", "close:<code>", "closeNow"
	failAt   int      // fail the failAt-th write (from 1); 0: never
	writes   int
	inflight atomic.Int32
	overlap  atomic.Bool
}

func (c *lifeConn) read(ctx context.Context) (websocket.MessageType, []byte, error) {
	<-ctx.Done()
	return 0, nil, ctx.Err()
}

func (c *lifeConn) write(ctx context.Context, _ websocket.MessageType, data []byte) error {
	if c.inflight.Add(1) > 1 {
		c.overlap.Store(true)
	}
	defer c.inflight.Add(-1)
	if ctx.Done() == nil {
		return errors.New("a write without a deadline")
	}
	runtime.Gosched() // widen the window for another writer
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if c.writes == c.failAt {
		return errors.New("write failed")
	}
	c.events = append(c.events, "w:"+string(data))
	return nil
}

func (c *lifeConn) close(code websocket.StatusCode, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, fmt.Sprintf("close:%d", code))
	return nil
}

func (c *lifeConn) closeNow() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, "closeNow")
	return nil
}

func (c *lifeConn) log() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want at most %d", runtime.NumGoroutine(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWriterOnDemand: a session's writer has a goroutine only while
// something is queued; an idle session has none.
func TestWriterOnDemand(t *testing.T) {
	srv := deliveryServer(Config{})
	base := runtime.NumGoroutine()
	const n = 200
	sessions := make([]*session, n)
	conns := make([]*lifeConn, n)
	for i := range sessions {
		conns[i] = &lifeConn{}
		sessions[i] = newSession(srv, conns[i], binaryCodec{})
	}
	waitGoroutines(t, base) // no writer goroutines at all
	for round := 1; round <= 3; round++ {
		for _, s := range sessions {
			for j := range 5 {
				if !s.enqueue(outMsg{typ: websocket.MessageBinary, data: fmt.Appendf(nil, "%d.%d", round, j)}) {
					t.Fatal("enqueue refused")
				}
			}
		}
		waitWritten(t, sessions, int64(5*round))
		waitGoroutines(t, base) // every drain has exited
		for _, s := range sessions {
			s.w.mu.Lock()
			running := s.w.running
			s.w.mu.Unlock()
			if running {
				t.Fatal("an idle writer is running")
			}
		}
	}
	for i, s := range sessions {
		s.stop(closeKicked)
		<-s.w.ended
		got := conns[i].log()
		if len(got) != 16 || got[15] != "close:4003" {
			t.Fatalf("session %d: %v", i, got)
		}
	}
	waitGoroutines(t, base)
}

// TestWriterStopRaces interleaves enqueues from several goroutines with
// the session's stop: whatever enqueue accepted is written, in order,
// before the close frame, which comes once, last, with the session's
// reason; writes never overlap; enqueues after the stop are refused.
func TestWriterStopRaces(t *testing.T) {
	base := runtime.NumGoroutine()
	iters := 300
	if testing.Short() {
		iters = 50
	}
	for it := range iters {
		srv := deliveryServer(Config{})
		conn := &lifeConn{}
		s := newSession(srv, conn, binaryCodec{})
		const producers, each = 4, 40
		accepted := make([][]string, producers)
		var wg sync.WaitGroup
		for p := range producers {
			wg.Go(func() {
				for i := range each {
					data := fmt.Sprintf("%d:%d", p, i)
					if s.enqueue(outMsg{typ: websocket.MessageBinary, data: []byte(data)}) {
						accepted[p] = append(accepted[p], "w:"+data)
					}
					if rand.IntN(8) == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		wg.Go(func() {
			for range rand.IntN(200) {
				runtime.Gosched()
			}
			s.stop(closeKicked)
		})
		wg.Wait()
		<-s.w.ended
		if s.enqueue(outMsg{typ: websocket.MessageBinary, data: []byte("late")}) {
			t.Fatal("an enqueue after the end was accepted")
		}
		got := conn.log()
		if conn.overlap.Load() {
			t.Fatal("writes overlapped")
		}
		if len(got) == 0 || got[len(got)-1] != "close:4003" {
			t.Fatalf("iteration %d: the last event is not the close frame: %v", it, got)
		}
		if n := strings.Count(strings.Join(got, " "), "close"); n != 1 {
			t.Fatalf("iteration %d: %d closes: %v", it, n, got)
		}
		// Each producer's accepted messages, in order, are exactly what
		// was written of it.
		for p := range producers {
			var written []string
			for _, e := range got {
				if strings.HasPrefix(e, fmt.Sprintf("w:%d:", p)) {
					written = append(written, e)
				}
			}
			if strings.Join(written, " ") != strings.Join(accepted[p], " ") {
				t.Fatalf("iteration %d, producer %d: wrote %v, accepted %v", it, p, written, accepted[p])
			}
		}
		if s.w.wrote.Load() != int64(len(got)-1) {
			t.Fatalf("wrote counts %d, %d written", s.w.wrote.Load(), len(got)-1)
		}
	}
	waitGoroutines(t, base)
}

// TestWriterWriteError: a failed write ends the writer and the session
// with closeWriteError: the connection is dropped (which ends the
// reader's Read), no close frame is sent, nothing is written after.
func TestWriterWriteError(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := deliveryServer(Config{})
	conn := &lifeConn{failAt: 3}
	s := newSession(srv, conn, binaryCodec{})
	for i := range 10 {
		s.enqueue(outMsg{typ: websocket.MessageBinary, data: fmt.Appendf(nil, "%d", i)})
	}
	<-s.w.ended
	if s.reason != closeWriteError {
		t.Fatalf("reason %v, want closeWriteError", s.reason)
	}
	s.stop(closeKicked) // too late to change anything
	if s.enqueue(outMsg{typ: websocket.MessageBinary, data: []byte("late")}) {
		t.Fatal("an enqueue after a write error was accepted")
	}
	got := conn.log()
	if len(got) != 3 || got[0] != "w:0" || got[1] != "w:1" || got[2] != "closeNow" {
		t.Fatalf("events %v, want two writes then closeNow", got)
	}
	waitGoroutines(t, base)
}

// TestDeadlines: a shared write context ends no sooner than the timeout
// after any write that takes it, and at most a grain later.
func TestDeadlines(t *testing.T) {
	var d deadlines
	const timeout = time.Second
	t0 := time.Now()
	ctx := d.get(t0, timeout)
	for _, dt := range []time.Duration{0, 50 * time.Millisecond, grainOf(timeout) - time.Nanosecond, grainOf(timeout), 5 * time.Second} {
		now := t0.Add(dt)
		c := d.get(now, timeout)
		dl, ok := c.Deadline()
		if !ok || dl.Before(now.Add(timeout)) || dl.After(now.Add(timeout+grainOf(timeout))) {
			t.Fatalf("at +%v: deadline +%v", dt, dl.Sub(t0))
		}
		if same := c == ctx; same != (dt < grainOf(timeout)) {
			t.Fatalf("at +%v: shared %v", dt, same)
		}
	}
	if c := d.get(t0, 2*timeout); c == ctx {
		t.Fatal("another timeout shares the context")
	}
}
