package clustertest

import (
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/loadtest"
)

// TestBigGroupPushedNotPulled sends into a 2,000-member group from four
// members at once, every member online, on each store: every member must
// get every message once and in order, by push alone. A NOTICE (pull
// this conversation) or a pull that reads the store would mean a member
// saw a gap in what it was pushed, which a node that keeps each
// conversation's events in seq order never shows.
func TestBigGroupPushedNotPulled(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 devices")
	}
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) *cluster
	}{
		{"embedded", func(t *testing.T) *cluster { return newEmbedded(t, fastBinary) }},
		{"postgres+redis", func(t *testing.T) *cluster { return newClusterOf(t, fastBinary, 1, sharedRedis(t)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.start(t)
			n := c.nodes[0]
			r, err := loadtest.New(loadtest.Config{URL: n.http, AppID: c.app, AdminToken: c.admin, Grace: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			const members, senders = 2000, 4
			rep, err := r.Group(t.Context(), loadtest.Group{Members: members, Senders: senders, Rate: 40, Duration: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var table strings.Builder
			rep.WriteTable(&table)
			t.Logf("report:\n%s", table.String())
			d := rep.Deliveries
			if !rep.Pass || d.Lost != 0 || d.Duplicates != 0 || d.OutOfOrder != 0 || d.Delivered != d.Expected || d.Expected == 0 {
				t.Errorf("delivered %d of %d: lost %d, duplicates %d, out of order %d; failures %v",
					d.Delivered, d.Expected, d.Lost, d.Duplicates, d.OutOfOrder, rep.Failures)
			}
			for _, cause := range []string{"no_cursor", "gap", "pending_overflow", "resync", "login", "joined"} {
				if v := n.metric(`imgate_notices_total{cause="` + cause + `"}`); v != 0 {
					t.Errorf("%v NOTICEs for cause %s, want 0", v, cause)
				}
			}
			if v := n.metric(`imgate_pulls_total{source="store"}`); v != 0 {
				t.Errorf("%v pulls read the store, want 0", v)
			}
			if v := n.metric(`imgate_deliveries_total{kind="group",path="sync"}`); v != 0 {
				t.Errorf("%v group deliveries by sync, want 0", v)
			}
			// Each message reaches every device but its sender's (the
			// tool counts receivers that do not send).
			if v, want := n.metric(`imgate_deliveries_total{kind="group",path="push"}`), rep.Send.Stored*(members-1); v != float64(want) {
				t.Errorf("%v group deliveries by push, want %d", v, want)
			}
		})
	}
}
