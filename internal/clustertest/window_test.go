package clustertest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestWindowAcrossRedisRestart(t *testing.T) {
	// One user sends to another through both nodes, so that each node
	// gets the conversation from its own commits and from the bus,
	// interleaved; the devices pull from a key behind them (as an app
	// does after a NOTICE), and the windows answer. Redis dies and comes
	// back mid-stream, so the nodes miss events: the windows are
	// dropped, and every device, including one that logs in after, ends
	// with every message once, in order, none skipped.
	r := startRedis(t)
	c := newCluster(t, 2, []string{"--redis", r.url(), "--bus-probe-interval", "500ms"})
	a, b := c.nodes[0], c.nodes[1]
	sender, _ := c.user("sender")
	uid, tok := c.user("reader")
	onB := c.login(b, uid, tok, "phone", 0)
	onA := c.login(a, uid, tok, "tablet", 0)
	const n = 240
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.sendLoop(func(i int) *node { return c.nodes[i%2] }, sender, uid, n, 15*time.Millisecond)
	}()
	memory := func(nd *node) float64 { return max(nd.metric(`imgate_pulls_total{source="memory"}`), 0) }
	for _, d := range []*device{onB, onA} {
		got := d.waitConv(t, sender, 40, 20*time.Second)
		if err := d.Pull(context.Background(), sender, got[20].Id); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "pulls answered from memory", func() bool { return memory(a)+memory(b) >= 2 })
	before := memory(a) + memory(b)
	r.kill()
	eventually(t, 10*time.Second, "node B reports the bus degraded", func() bool {
		resp, err := http.Get(b.http + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	time.Sleep(time.Second)
	r.start()
	later := c.login(b, uid, tok, "laptop", 0)
	if err := later.Pull(context.Background(), sender, 0); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, d := range []*device{onB, onA, later} {
		checkAll(t, d, sender, n)
	}
	t.Logf("pulls answered from memory: %v before Redis died, %v in all", before, memory(a)+memory(b))
	if before == 0 {
		t.Error("no pull was answered from memory while both streams flowed")
	}
}
