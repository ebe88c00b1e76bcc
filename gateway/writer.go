package gateway

import (
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
//
// The writer has a goroutine only while it has something to write, so
// that an idle session costs no writer stack: an enqueue on an idle
// writer starts a drain, which writes until the queue is empty and exits.
// At most one drain runs at a time, so writes stay serialised and in
// order. Once stopped, the writer takes nothing more; a drain writes what
// was queued before, then ends the writer with the close frame (end), once.
//
// The states, all under mu:
//
//	idle      !running, !stopping          no goroutine; enqueue starts a drain
//	draining  running, !stopping           a drain writes; enqueue appends only
//	stopping  running, stopping, !over     a drain flushes, then calls end(nil)
//	over      over                         end has been or is being called; over is closed after
//
// A drain leaves draining for idle only when, under mu, it finds the
// queue empty; stop, under mu, starts a drain if none runs. So the queue
// is never left non-empty without a drain, and the last drain sees stopping.
type writer struct {
	limit     int
	metrics   *metrics.Metrics
	conn      transport
	timeout   time.Duration
	deadlines *deadlines // shared by the server's writers (deadline.go)
	// end is called once, by the last drain: with nil after the queue was
	// flushed on stop (send the close frame), or with the write error that
	// ended the writer. Nothing is written after it.
	end func(err error)

	mu       sync.Mutex
	queue    []outMsg
	bytes    int
	running  bool // a drain goroutine runs (or is about to)
	stopping bool // stop was called: enqueue refuses, the last drain calls end
	over     bool // end was called or is being called

	ended chan struct{} // closed after end returns

	// The drain's own, used by one drain at a time.
	spare []outMsg // a queue slice to reuse
	buf   []byte   // the merged frame being written

	written atomic.Int64 // the Seq of the last notice written
	wrote   atomic.Int64 // queued messages written so far, merged or not
	queued  atomic.Int64 // messages ever queued: queued - wrote are unwritten
}

// noticeWritten is the Seq of the last notice written to the client.
func (w *writer) noticeWritten() int64 { return w.written.Load() }

// newWriter returns an idle writer to conn, each write within timeout
// (a grain more at most: see deadlines, which d shares among writers);
// end is called as the writer ends.
func newWriter(limit int, m *metrics.Metrics, conn transport, timeout time.Duration, d *deadlines, end func(error)) *writer {
	return &writer{limit: limit, metrics: m, conn: conn, timeout: timeout, deadlines: d, end: end, ended: make(chan struct{})}
}

// enqueue adds a message; false if that would pass the byte limit, or if
// the writer has stopped. An empty queue takes any one message, so that a
// frame larger than the limit (a page of long messages) does not fail a
// reader that keeps up.
func (w *writer) enqueue(m outMsg) bool {
	m.queued = time.Now().UnixNano()
	w.mu.Lock()
	if w.stopping || w.over {
		w.mu.Unlock()
		return false
	}
	if w.bytes > 0 && w.bytes+len(m.data) > w.limit {
		w.mu.Unlock()
		return false
	}
	w.queue = append(w.queue, m)
	w.bytes += len(m.data)
	w.queued.Add(1)
	start := !w.running
	w.running = true
	w.mu.Unlock()
	if start {
		go w.drain()
	}
	return true
}

// stop makes the writer write what is queued and then end: a drain
// calls end(nil) once the queue is empty, after any write in progress.
// Enqueues from now on are refused. Wait for ended to know it is done.
func (w *writer) stop() {
	w.mu.Lock()
	if w.stopping {
		w.mu.Unlock()
		return
	}
	w.stopping = true
	start := !w.running
	w.running = true
	w.mu.Unlock()
	if start {
		go w.drain()
	}
}

// spareMax bounds the queue slice a writer keeps for reuse.
const spareMax = 1024

// drain writes what is queued until the queue is empty, then exits, or,
// when the writer is stopping, ends it. Pushes queued next to each other
// go out merged, as one frame (merge.go).
func (w *writer) drain() {
	for {
		w.mu.Lock()
		q := w.queue
		if len(q) == 0 {
			if !w.stopping {
				w.running = false
				w.mu.Unlock()
				return
			}
			w.over = true
			w.mu.Unlock()
			w.finish(nil)
			return
		}
		// Queue from now on into spare, a slice written before (emptied),
		// so that queueing does not allocate once the queue has grown to
		// its usual length.
		w.queue, w.bytes, w.spare = w.spare[:0], 0, nil
		w.mu.Unlock()

		err := w.pass(q)
		clear(q) // the frames' bytes, for the collector
		if cap(q) <= spareMax {
			w.spare = q
		}
		if err != nil {
			w.mu.Lock()
			w.over = true
			w.queue, w.bytes, w.spare = nil, 0, nil
			w.mu.Unlock()
			w.finish(err)
			return
		}
	}
}

// finish ends the writer, once: only the drain that set over calls it.
func (w *writer) finish(err error) {
	if w.end != nil {
		w.end(err)
	}
	close(w.ended)
}

// pass writes q, a queue taken, merging what merges.
func (w *writer) pass(q []outMsg) error {
	w.metrics.WriteBatch.Observe(float64(len(q)))
	for i := 0; i < len(q); {
		j := mergeEnd(q, i)
		if err := w.writeRun(q[i:j]); err != nil {
			w.wrote.Add(int64(i))
			return err
		}
		i = j
	}
	w.wrote.Add(int64(len(q)))
	return nil
}

// writeRun writes a run of messages as one frame: the message itself
// when the run is one, else their merged SyncDL. Each message's queue
// time, deliveries and notices count as if it had been written alone.
// The write is bounded by the write timeout: a client that has not taken
// it by then is slow, and coder/websocket closes the connection when the
// write's context ends.
func (w *writer) writeRun(run []outMsg) error {
	start := time.Now()
	for _, m := range run {
		w.metrics.QueueTime.Observe(max(start.Sub(time.Unix(0, m.queued)).Seconds(), 0))
	}
	data := run[0].data
	if len(run) > 1 {
		w.buf = appendMerged(w.buf[:0], run)
		data = w.buf
	}
	err := w.conn.write(w.deadlines.get(start, w.timeout), run[0].typ, data)
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
