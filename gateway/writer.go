package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// outMsg is one encoded WebSocket message waiting to be written.
type outMsg struct {
	typ  websocket.MessageType
	data []byte
	// notice is the Seq of the last notice the message carries, 0 for none:
	// once it is written, the device's notice cursor may move past it.
	notice int64
}

// writer is a session's outgoing queue, bounded in bytes so that a slow
// reader costs a known amount of memory: enqueue never blocks, and a
// queue over its limit refuses, which closes the session as slow. Nothing
// is lost by that: what was not written is stored and syncs on reconnect.
type writer struct {
	limit int
	wake  chan struct{}

	mu    sync.Mutex
	queue []outMsg
	bytes int

	written atomic.Int64 // the Seq of the last notice written
}

// noticeWritten is the Seq of the last notice written to the client.
func (w *writer) noticeWritten() int64 { return w.written.Load() }

func newWriter(limit int) *writer {
	return &writer{limit: limit, wake: make(chan struct{}, 1)}
}

// enqueue adds a message; false if that would pass the byte limit. An
// empty queue takes any one message, so that a frame larger than the limit
// (a page of long messages) does not fail a reader that keeps up.
func (w *writer) enqueue(m outMsg) bool {
	w.mu.Lock()
	if w.bytes > 0 && w.bytes+len(m.data) > w.limit {
		w.mu.Unlock()
		return false
	}
	w.queue = append(w.queue, m)
	w.bytes += len(m.data)
	w.mu.Unlock()
	w.signal()
	return true
}

func (w *writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *writer) take() []outMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue, w.bytes = nil, 0
	return q
}

// run writes queued messages, each within timeout, until done is closed;
// then it writes what is still queued (a kick's notice, say) and returns.
// It returns early when a write fails.
func (w *writer) run(conn transport, timeout time.Duration, done <-chan struct{}) error {
	for {
		stopping := false
		select {
		case <-w.wake:
		case <-done:
			stopping = true
		}
		for _, m := range w.take() {
			if err := w.write(conn, m, timeout); err != nil {
				return err
			}
			if m.notice > w.written.Load() {
				w.written.Store(m.notice)
			}
		}
		if stopping {
			return nil
		}
	}
}

func (w *writer) write(conn transport, m outMsg, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return conn.write(ctx, m.typ, m.data)
}
