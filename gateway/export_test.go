package gateway

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate/delivery"
)

// HeldHandler serves XSYNC as the Server does at /ws, except that every
// write waits while hold is locked: a client that reads nothing, without
// the kernel's socket buffers in between.
func HeldHandler(s *Server, hold *sync.Mutex) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, func(w http.ResponseWriter, r *http.Request) (transport, codec, bool) {
			t, c, ok := s.acceptRaw(w, r)
			if !ok {
				return nil, nil, false
			}
			return heldConn{t, hold}, c, true
		})
	})
}

type heldConn struct {
	transport
	hold *sync.Mutex
}

func (h heldConn) write(ctx context.Context, typ websocket.MessageType, data []byte) error {
	h.hold.Lock()
	h.hold.Unlock() //nolint:staticcheck // waits for the test to release writes
	return h.transport.write(ctx, typ, data)
}

// Queued is how many messages the server's sessions hold queued, not
// taken by their writers yet.
func Queued(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for sess := range s.live {
		sess.w.mu.Lock()
		n += len(sess.w.queue)
		sess.w.mu.Unlock()
	}
	return n
}

// Unwritten counts the frames of every session not written yet: queued,
// or taken by a write still in progress.
func Unwritten(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for sess := range s.live {
		n += int(sess.w.queued.Load() - sess.w.wrote.Load())
	}
	return n
}

// Gathered reads a counter's or histogram's count from the registry.
func Gathered(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s %v", name, labels)
	return 0
}

// FeedWindow hands a Stored event to the server's window alone, as if it
// came on a stream none of the node's sessions is on.
func FeedWindow(s *Server, e *delivery.Event) { s.hub.window.Load().feed(e) }

// Holds counts the Stored events the hub held ahead of a gap, and those
// of them it delivered only when the hold ran out.
func Holds(h *Hub) (held, late int64) { return h.orders.held.Load(), h.orders.late.Load() }
