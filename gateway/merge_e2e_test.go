package gateway_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/metrics"
)

func TestSlowReaderGetsMergedPushes(t *testing.T) {
	// A member whose socket takes nothing while a group's messages come
	// in: they queue, and when the socket drains they arrive merged into
	// few SyncDLs, every message once and in order.
	reg := prometheus.NewRegistry()
	s := embeddedServer(t, gateway.Config{SendRate: 1e6, SendBurst: 1000, Metrics: metrics.New(reg)})
	alice, atok := s.user("alice")
	bob, btok := s.user("bob")
	group := s.createGroup(atok, bob)

	var hold sync.Mutex
	held := httptest.NewServer(gateway.HeldHandler(s.gw, &hold))
	t.Cleanup(held.Close)
	c, err := client.Dial(ctx(t), "ws"+strings.TrimPrefix(held.URL, "http"), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if p, err := c.Login(ctx(t), bob, 0, btok, "bob"); err != nil || p.Status.GetCode() != xsync.Status_OK {
		t.Fatalf("login: %v %v", p, err)
	}
	// The UNREAD answer comes after the session has loaded its cursors.
	if err := c.Send(ctx(t), xsync.Frame_UNREAD, &xsync.UnreadUL{}); err != nil {
		t.Fatal(err)
	}
	for {
		cmd, _, err := c.Recv(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if cmd == xsync.Frame_UNREAD {
			break
		}
	}

	a := s.device(alice, atok, "a", false)
	const n = 40
	hold.Lock()
	for i := range n {
		a.send(t, group, text(xsync.MessageBody_GROUPCHAT, fmt.Sprint("m", i)))
	}
	// The first pushes may be in the held write (the hub delivers them
	// apart from the sends' answers, so the writer may have taken more
	// than one); the others wait behind it.
	eventually(t, "the pushes queued", func() bool { return gateway.Unwritten(s.gw) >= n })
	hold.Unlock()

	var got []string
	frames := 0
	for len(got) < n {
		_, msg, err := c.Recv(ctx(t))
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(got), n, err)
		}
		dl, ok := msg.(*xsync.SyncDL)
		if !ok || dl.Xid.GetUid() != group {
			continue
		}
		if !dl.IsEagerSync || dl.Status.GetCode() != xsync.Status_OK || dl.NextKey != 0 {
			t.Errorf("a push arrived as %v", dl)
		}
		frames++
		got = append(got, contents(t, dl.Metas)...)
	}
	for i, c := range got {
		if want := fmt.Sprint("m", i); c != want {
			t.Fatalf("message %d is %q, want %q (all: %v)", i, c, want, got)
		}
	}
	t.Logf("%d messages in %d SyncDLs", n, frames)
	if frames > 3 {
		t.Errorf("%d messages came in %d SyncDLs: the queued pushes were not merged", n, frames)
	}
	// Every delivery counts, merged or not.
	eventually(t, "deliveries counted", func() bool {
		return gateway.Gathered(t, reg, "imgate_deliveries_total", map[string]string{"kind": "group", "path": "push"}) == n
	})
}
