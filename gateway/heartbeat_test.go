package gateway_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/metrics"
	"github.com/imgate/imgate/storage/embedded"
)

// TestHeartbeatsBounded sends 40 heartbeats at once: the first ten (the
// burst) are answered from the store, the rest refused with
// RATE_LIMIT_EXCEEDED without reading it, and counted.
func TestHeartbeatsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir(), RoundTrips: m}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, st, gateway.Config{Metrics: m})
	alice, atok := s.user("alice")
	c, _ := s.login(alice, 0, atok, "ga")
	unreads := func() float64 {
		return gateway.Gathered(t, reg, "imgate_store_round_trips_total", map[string]string{"op": metrics.OpUnread})
	}
	before := unreads()
	const sent = 40
	for range sent {
		if err := c.Send(ctx(t), xsync.Frame_UNREAD, &xsync.UnreadUL{}); err != nil {
			t.Fatal(err)
		}
	}
	answered, limited := 0, 0
	for answered+limited < sent {
		cmd, msg, err := c.Recv(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if cmd != xsync.Frame_UNREAD {
			continue
		}
		switch code := msg.(*xsync.UnreadDL).GetStatus().GetCode(); code {
		case xsync.Status_OK:
			answered++
		case xsync.Status_RATE_LIMIT_EXCEEDED:
			limited++
		default:
			t.Fatalf("UNREAD answered %s", code)
		}
	}
	// The burst, and what the bucket refilled while they were sent.
	if answered < 10 || answered > 12 {
		t.Errorf("%d heartbeats answered, want the burst of 10 (and one or two refilled)", answered)
	}
	if reads := unreads() - before; reads > float64(2*answered) {
		t.Errorf("%v store round trips for %d answered heartbeats", reads, answered)
	}
	if got := gateway.Gathered(t, reg, "imgate_rate_limited_total", map[string]string{"limit": "unread"}); got != float64(limited) {
		t.Errorf("counted %v refused heartbeats, want %d", got, limited)
	}
}
