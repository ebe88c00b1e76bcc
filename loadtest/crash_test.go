package loadtest_test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/loadtest"
)

// proxy forwards TCP connections to a server until cut, when it closes
// every connection and its listener: to the load tool, a node that
// crashed (connections broken without a close frame, then refused).
type proxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

func startProxy(t *testing.T, to string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	t.Cleanup(p.kill)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				return
			}
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, cs...)
	return true
}

func (p *proxy) url() string { return "http://" + p.l.Addr().String() }

// kill closes the listener and every connection.
func (p *proxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.l.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestMixedNodeCrash runs the mixed scenario on two "nodes", one of them
// a proxy that is cut a second in, as a crashed node: the devices on it
// come back to the other node with back-off, churned devices and REST
// calls go to the node still up, and with Faults the run passes with
// every stored message delivered once and in order, the drops counted
// by reason. Without Faults the same run fails, naming the drops.
func TestMixedNodeCrash(t *testing.T) {
	s := startServer(t)
	for _, faults := range []bool{true, false} {
		p := startProxy(t, strings.TrimPrefix(s.url, "http://"))
		r, err := loadtest.New(loadtest.Config{URL: p.url() + "," + s.url, AppID: s.app, AdminToken: s.token,
			Grace: 10 * time.Second, Faults: faults})
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(4*time.Second, p.kill) // setup takes about 2 s
		rep, err := r.Mixed(t.Context(), loadtest.Mixed{
			Pairs: 10, ChatRate: 100, RESTShare: 0.25, Groups: 1, GroupSize: 6, GroupRate: 5,
			Churn: 4, Offline: 200 * time.Millisecond, Duration: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		logReport(t, rep)
		d, rd := rep.Deliveries, rep.Redials
		if d.Lost != 0 || d.Duplicates != 0 || d.OutOfOrder != 0 || d.Unexpected != 0 || d.Delivered == 0 {
			t.Errorf("faults %v: delivered %d, lost %d, duplicates %d, out of order %d, unexpected %d; want none lost",
				faults, d.Delivered, d.Lost, d.Duplicates, d.OutOfOrder, d.Unexpected)
		}
		if rd == nil || rd.Drops == 0 || rd.Back != rd.Drops || rd.ByReason["no close frame"] == 0 {
			t.Fatalf("faults %v: redials %+v, want every dropped device back", faults, rd)
		}
		if rep.Disconnects != 0 {
			t.Errorf("faults %v: %d devices not connected at the end", faults, rep.Disconnects)
		}
		if faults && !rep.Pass {
			t.Errorf("with Faults the run failed: %v", rep.Failures)
		}
		if !faults && (rep.Pass || !strings.Contains(strings.Join(rep.Failures, ";"), "the server dropped")) {
			t.Errorf("without Faults: pass %v, failures %v; want the drops named", rep.Pass, rep.Failures)
		}
	}
}
