package clustertest

import (
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/loadtest"
)

// TestLoadtestAcrossNodes runs the load tool's chat and group scenarios
// against three nodes at once: devices spread over the nodes by user id,
// so most 1:1 messages and every group message cross Redis, and each
// delivery must arrive exactly once and in order.
func TestLoadtestAcrossNodes(t *testing.T) {
	c := newCluster(t, 3, sharedRedis(t))
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, n.http)
	}
	r, err := loadtest.New(loadtest.Config{URL: strings.Join(urls, ","), AppID: c.app, AdminToken: c.admin, Grace: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	check := func(rep *loadtest.Report, want int64) {
		t.Helper()
		var table strings.Builder
		rep.WriteTable(&table)
		t.Logf("report:\n%s", table.String())
		d := rep.Deliveries
		if d.Lost != 0 || d.Duplicates != 0 || d.OutOfOrder != 0 || d.Unexpected != 0 || d.Delivered != want || !rep.Pass {
			t.Errorf("delivered %d of %d (want %d): lost %d, duplicates %d, out of order %d, unexpected %d; failures %v",
				d.Delivered, d.Expected, want, d.Lost, d.Duplicates, d.OutOfOrder, d.Unexpected, rep.Failures)
		}
	}
	rep, err := r.Chat(t.Context(), loadtest.Chat{Pairs: 30, Rate: 300, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	check(rep, 600)
	rep, err = r.Chat(t.Context(), loadtest.Chat{Pairs: 10, Rate: 100, Duration: time.Second, Via: loadtest.ViaREST})
	if err != nil {
		t.Fatal(err)
	}
	check(rep, 100)
	rep, err = r.Group(t.Context(), loadtest.Group{Members: 60, Rate: 20, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	check(rep, 40*59)
	// Every node held devices and pushed to them.
	for _, n := range c.nodes {
		if v := n.metric(`imgate_deliveries_total{kind="group",path="push"}`); v < 1 {
			t.Errorf("group pushes on %s: %v", n.name, v)
		}
	}
}
