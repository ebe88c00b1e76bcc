package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/imgate/imgate/metrics"
)

// outMsg is one encoded WebSocket message waiting to be written.
type outMsg struct {
	typ  websocket.MessageType
	data []byte
	// notice is the Seq of the last notice the message carries, 0 for none:
	// once it is written, the device's notice cursor may move past it.
	notice int64
	// items is what the message delivers, for the fan-out metrics; nil
	// for answers, NOTICEs and the like. Shared by every session a group
	// message's frame goes to: read-only.
	items *delivered
	// queued is when the message was queued (unix nanoseconds).
	queued int64
	// push, set on binary eager pushes, lets the writer merge the message
	// with the pushes queued next to it (merge.go). Shared, read-only.
	push *pushFrame
}

// delivered is what one frame delivers to a device: n items of a kind by
// a path, accepted at one time (a push of one event) or each at its own
// (a page of a pull).
type delivered struct {
	kind metrics.Kind
	path metrics.Path
	n    int
	at   int64   // when the items were accepted, unix nanoseconds; 0: see ats
	ats  []int64 // when each item was accepted, when at is 0
}

// observe counts the items as written now.
func (d *delivered) observe(m *metrics.Metrics, now time.Time) {
	if d.at != 0 || len(d.ats) == 0 {
		m.Delivered(d.kind, d.path, d.at, d.n, now)
		return
	}
	for _, at := range d.ats {
		m.Delivered(d.kind, d.path, at, 1, now)
	}
}

// writer is a session's outgoing queue, bounded in bytes so that a slow
// reader costs a known amount of memory: enqueue never blocks, and a
// queue over its limit refuses, which closes the session as slow. Nothing
// is lost by that: what was not written is stored and syncs on reconnect.
type writer struct {
	limit   int
	wake    chan struct{}
	metrics *metrics.Metrics

	mu    sync.Mutex
	queue []outMsg
	bytes int

	buf []byte // the merged frame being written; the writer's own

	written atomic.Int64 // the Seq of the last notice written
	wrote   atomic.Int64 // queued messages written so far, merged or not
}

// noticeWritten is the Seq of the last notice written to the client.
func (w *writer) noticeWritten() int64 { return w.written.Load() }

func newWriter(limit int, m *metrics.Metrics) *writer {
	return &writer{limit: limit, wake: make(chan struct{}, 1), metrics: m}
}

// enqueue adds a message; false if that would pass the byte limit. An
// empty queue takes any one message, so that a frame larger than the limit
// (a page of long messages) does not fail a reader that keeps up.
func (w *writer) enqueue(m outMsg) bool {
	m.queued = time.Now().UnixNano()
	w.mu.Lock()
	if w.bytes > 0 && w.bytes+len(m.data) > w.limit {
		w.mu.Unlock()
		return false
	}
	wasEmpty := len(w.queue) == 0
	w.queue = append(w.queue, m)
	w.bytes += len(m.data)
	w.mu.Unlock()
	if wasEmpty {
		// A queue that was not empty has a wake pending, or a writer
		// about to take it.
		w.signal()
	}
	return true
}

func (w *writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take returns what is queued and queues from now on into spare, a
// slice take returned before (emptied), so that queueing does not
// allocate once the queue has grown to its usual length.
func (w *writer) take(spare []outMsg) []outMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue, w.bytes = spare[:0], 0
	return q
}

// spareMax bounds the queue slice a writer keeps for reuse.
const spareMax = 1024

// run writes queued messages, each within timeout, until done is closed;
// then it writes what is still queued (a kick's notice, say) and returns.
// It returns early when a write fails. Pushes queued next to each other
// go out merged, as one frame (merge.go).
func (w *writer) run(conn transport, timeout time.Duration, done <-chan struct{}) error {
	var spare []outMsg
	for {
		stopping := false
		select {
		case <-w.wake:
		case <-done:
			stopping = true
		}
		q := w.take(spare)
		if len(q) > 0 {
			w.metrics.WriteBatch.Observe(float64(len(q)))
		}
		for i := 0; i < len(q); {
			j := mergeEnd(q, i)
			if err := w.writeRun(conn, q[i:j], timeout); err != nil {
				return err
			}
			i = j
		}
		w.wrote.Add(int64(len(q)))
		clear(q) // the frames' bytes, for the collector
		if cap(q) <= spareMax {
			spare = q
		}
		if stopping {
			return nil
		}
	}
}

// writeRun writes a run of messages as one frame: the message itself
// when the run is one, else their merged SyncDL. Each message's queue
// time, deliveries and notices count as if it had been written alone.
func (w *writer) writeRun(conn transport, run []outMsg, timeout time.Duration) error {
	start := time.Now()
	for _, m := range run {
		w.metrics.QueueTime.Observe(max(start.Sub(time.Unix(0, m.queued)).Seconds(), 0))
	}
	data := run[0].data
	if len(run) > 1 {
		w.buf = appendMerged(w.buf[:0], run)
		data = w.buf
	}
	err := w.write(conn, run[0].typ, data, timeout)
	if cap(w.buf) > mergeKeepBytes {
		w.buf = nil
	}
	if err != nil {
		return err
	}
	now := time.Now()
	for _, m := range run {
		if m.items != nil {
			m.items.observe(w.metrics, now)
		}
		if m.notice > w.written.Load() {
			w.written.Store(m.notice)
		}
	}
	return nil
}

func (w *writer) write(conn transport, typ websocket.MessageType, data []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return conn.write(ctx, typ, data)
}
