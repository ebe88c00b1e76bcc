package delivery

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgate/imgate"
)

// twoNodes is a core on each of two Redis buses, over one store: node 0
// is setup's core, moved onto a Redis bus.
func twoNodes(t *testing.T) ([2]*Core, [2]*RedisBus, []int64) {
	t.Helper()
	first, gs, _, users := setup(t)
	gs.release()
	client, prefix := testRedis(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var cores [2]*Core
	var buses [2]*RedisBus
	for i := range cores {
		b, err := NewRedisBus(RedisConfig{Prefix: prefix, Node: string(rune('a' + i))}, client, &recorder{}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		c := New(Config{CheckCacheTTL: time.Hour}, first.Store(), b, quiet)
		t.Cleanup(b.Close)
		t.Cleanup(c.Close) // before the bus closes
		cores[i], buses[i] = c, b
	}
	return cores, buses, users
}

// TestInvalidationAcrossNodes checks that a block made through one node
// drops the other node's cached pass at once, however long its TTL, and
// only the passes it names.
func TestInvalidationAcrossNodes(t *testing.T) {
	nodes, _, users := twoNodes(t)
	ctx := context.Background()
	a, b, d := users[0], users[1], users[2]
	send := func(from, to int64) error {
		_, _, err := nodes[1].Send(ctx, Sender{App: "app", User: from, Device: 1}, []imgate.Message{{Kind: imgate.ConvChat, To: to, Content: "hi"}})
		return err
	}
	for _, p := range [][2]int64{{a, b}, {d, a}} {
		if err := send(p[0], p[1]); err != nil {
			t.Fatal(err)
		}
	}
	var seen atomic.Int64
	nodes[1].OnInvalidation(func(inv Invalidation) {
		if inv.App == "app" && len(inv.Users) == 2 {
			seen.Add(1)
		}
	})
	err := nodes[0].Notifying(nodes[0].Store()).Roster(ctx, "app", b, a, func(tx imgate.RosterTx) error {
		item, err := tx.Item(b, a)
		if err != nil {
			return err
		}
		item.Blocked = true
		return tx.PutItem(item)
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the block reaches the other node", func() bool {
		return imgate.ErrorCode(send(a, b)) == imgate.CodeInBlacklist
	})
	if n := seen.Load(); n != 1 {
		t.Errorf("the other node's listeners saw %d invalidations, want 1", n)
	}
	// d's pass to a names a: dropped. A pass naming neither a nor b
	// stays.
	dToA := checkKey{app: "app", user: d, conv: imgate.Conv{Kind: imgate.ConvChat, Peer: a}}
	if _, ok := nodes[1].checks.passed(dToA, time.Now()); ok {
		t.Error("a pass naming a user of the change was kept")
	}
	if err := send(d, d); err != nil {
		t.Fatal(err)
	}
	nodes[0].Invalidate(ctx, Invalidation{App: "app", Users: []int64{a, b}})
	waitFor(t, 2*time.Second, "the second invalidation arrives", func() bool { return seen.Load() == 2 })
	dToD := checkKey{app: "app", user: d, conv: imgate.Conv{Kind: imgate.ConvChat, Peer: d}}
	if _, ok := nodes[1].checks.passed(dToD, time.Now()); !ok {
		t.Error("a pass naming neither user of the change was dropped")
	}
}

// TestResyncClearsChecks checks that when the bus resyncs (it may have
// lost invalidations) the check cache is cleared.
func TestResyncClearsChecks(t *testing.T) {
	nodes, buses, users := twoNodes(t)
	ctx := context.Background()
	if _, _, err := nodes[1].Send(ctx, Sender{App: "app", User: users[0], Device: 1}, []imgate.Message{{Kind: imgate.ConvChat, To: users[1], Content: "hi"}}); err != nil {
		t.Fatal(err)
	}
	if n := nodes[1].checks.size(); n != 1 {
		t.Fatalf("%d passes cached, want 1", n)
	}
	buses[1].resync()
	if n := nodes[1].checks.size(); n != 0 {
		t.Errorf("%d passes cached after a resync, want 0", n)
	}
}

// cutProxy forwards TCP connections to an address until cut; cut, it
// closes what it forwards and every connection it accepts, as a network
// partition between one node and Redis would.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.setCut(true)
	})
	go p.accept()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		p.mu.Lock()
		if err != nil || p.cut {
			p.mu.Unlock()
			c.Close()
			if up != nil {
				up.Close()
			}
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// setCut cuts (closing every forwarded connection) or restores the path.
func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestInvalidationRetried checks that an invalidation a node could not
// publish (Redis unreachable from it alone, so no other node resyncs)
// reaches the other nodes once Redis is reachable again.
func TestInvalidationRetried(t *testing.T) {
	client, prefix := testRedis(t)
	proxy := newCutProxy(t, "127.0.0.1:6379")
	cut := redis.NewClient(&redis.Options{Addr: proxy.addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { cut.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var got sync.Map // app → true
	recv, err := NewRedisBus(RedisConfig{Prefix: prefix, Node: "recv", ProbeInterval: time.Hour}, client, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	recv.OnInvalidation(func(inv Invalidation) { got.Store(inv.App, true) })
	pub, err := NewRedisBus(RedisConfig{Prefix: prefix, Node: "pub", ProbeInterval: time.Hour}, cut, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx := context.Background()
	arrived := func(app string) bool { _, ok := got.Load(app); return ok }
	waitFor(t, 5*time.Second, "an invalidation crosses", func() bool {
		_ = pub.PublishInvalidation(ctx, Invalidation{App: "before", Users: []int64{1}})
		time.Sleep(20 * time.Millisecond)
		return arrived("before")
	})

	proxy.setCut(true)
	_ = pub.PublishInvalidation(ctx, Invalidation{App: "during", Users: []int64{1}})
	waitFor(t, 5*time.Second, "the publish fails", func() bool { return pub.Stats().PublishErrors > 0 })
	if arrived("during") {
		t.Fatal("an invalidation crossed a cut path")
	}
	proxy.setCut(false)
	waitFor(t, 5*time.Second, "the invalidation arrives once the path is back", func() bool { return arrived("during") })
}
