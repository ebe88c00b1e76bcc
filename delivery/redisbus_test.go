package delivery

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// slowRouter is a Router that counts what reaches it; its Resync waits
// until released, as a hub with many sessions takes its time.
type slowRouter struct {
	mu        sync.Mutex
	delivered []*Event
	resyncs   chan struct{} // receives on each Resync
	release   chan struct{} // Resync returns once this is closed
}

func (r *slowRouter) Deliver(e *Event) {
	r.mu.Lock()
	r.delivered = append(r.delivered, e)
	r.mu.Unlock()
}

func (r *slowRouter) Resync() {
	r.resyncs <- struct{}{}
	<-r.release
}

func (r *slowRouter) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.delivered)
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

func TestRedisBusReadsWhileRouterResyncs(t *testing.T) {
	// After its subscription connection is cut and made again, a node
	// resyncs its sessions; receiving must go on meanwhile, as the read
	// loop never blocks.
	c, prefix := testRedis(t)
	name := strings.ReplaceAll(prefix, "-", "")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The receiving node's client names its connections, to find its
	// subscription connection.
	bc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ClientName: name})
	defer bc.Close()
	rec := &slowRouter{resyncs: make(chan struct{}, 10), release: make(chan struct{})}
	b, err := NewRedisBus(RedisConfig{Prefix: prefix, Node: "b", ProbeInterval: time.Hour}, bc, rec, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	defer close(rec.release) // before Close, which waits for the resync
	a, err := NewRedisBus(RedisConfig{Prefix: prefix, Node: "a", ProbeInterval: time.Hour}, c, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b.Subscribe(Topic{App: "app", ID: 7})
	ctx := context.Background()
	send := func() {
		if err := a.Publish(ctx, &Event{Kind: Notices, App: "app", Users: []int64{7}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "an event reaches the subscribed node", func() bool {
		send()
		time.Sleep(20 * time.Millisecond)
		return rec.count() > 0
	})

	// Cut the node's subscription connection.
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " name="+name+" ") && !strings.Contains(line, " sub=0 ") {
			for _, f := range strings.Fields(line) {
				if id, ok := strings.CutPrefix(f, "id="); ok {
					n, _ := strconv.ParseInt(id, 10, 64)
					if err := c.ClientKillByFilter(ctx, "ID", strconv.FormatInt(n, 10)).Err(); err != nil {
						t.Fatal(err)
					}
					killed++
				}
			}
		}
	}
	if killed == 0 {
		t.Fatalf("no subscription connection named %s in\n%s", name, list)
	}
	select {
	case <-rec.resyncs:
	case <-time.After(10 * time.Second):
		t.Fatal("no resync after the subscription came back")
	}
	// The router is still resyncing; events keep arriving.
	before := rec.count()
	waitFor(t, 5*time.Second, "events arrive while the router resyncs", func() bool {
		send()
		time.Sleep(20 * time.Millisecond)
		return rec.count() > before
	})
}
