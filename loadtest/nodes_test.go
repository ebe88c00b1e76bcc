package loadtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/gateway/xsync"
)

func TestNodesSkipDown(t *testing.T) {
	now := time.Unix(1000, 0)
	n := newNodes([]string{"a", "b", "c"}, []string{"wa", "wb", "wc"})
	n.now = func() time.Time { return now }
	var got []int
	for range 4 {
		got = append(got, n.pick())
	}
	if want := []int{0, 1, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("picks %v, want %v", got, want)
	}
	n.markDown(1)
	got = got[:0]
	for range 3 {
		got = append(got, n.pick())
	}
	// In turn: b (down, so c), c, a.
	if want := []int{2, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("picks with b down %v, want %v", got, want)
	}
	if a, h := n.after(0), n.home(1); a != 2 || h != 2 {
		t.Errorf("after a %d, home of b %d; want c (2) both", a, h)
	}
	now = now.Add(downFor)
	if a := n.after(0); a != 1 {
		t.Errorf("after a, once b's time is up: %d, want b (1)", a)
	}
	for i := range 3 {
		n.markDown(i)
	}
	if a := n.after(1); a != 2 {
		t.Errorf("after b, all down: %d, want the next in turn (2)", a)
	}
}

// A REST call to a node that refuses connections goes to the next one,
// and the dead node is skipped afterwards; a refusal is named by code.
func TestAPISkipsDeadNode(t *testing.T) {
	var calls int
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Write([]byte(`{"code":20000,"message":"store unreachable"}`))
	}))
	defer live.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	ns := newNodes([]string{deadURL, live.URL}, []string{"", ""})
	a := &api{nodes: ns, app: "app", hc: live.Client()}
	for range 3 {
		err := a.send(context.Background(), 1, toUsers, 2, "hi")
		var re refusal
		if !errors.As(err, &re) || re.refusal() != "rest 20000" {
			t.Fatalf("send answered %v, want a refusal with code 20000", err)
		}
		if f := fateOf(err); f != refused {
			t.Errorf("fate %v, want refused", f)
		}
	}
	if calls != 3 || ns.up(0) {
		t.Errorf("%d calls reached the live node (want 3); dead node up: %v", calls, ns.up(0))
	}
}

// Refusals are counted by code in the report and name it; a rate-limit
// code (only) suggests the server's rate flags, and with Faults they do
// not fail the run.
func TestRefusalsByCode(t *testing.T) {
	p := newPacer(10, time.Second)
	out := &outbox{from: 1}
	out.record(1, refused, &wsRefusal{from: "u", code: xsync.Status_FAIL, reason: "server error"})
	out.record(2, refused, &codeError{path: "/message/send", code: 20000})
	out.record(3, refused, &wsRefusal{from: "u", code: xsync.Status_FAIL})
	out.record(4, stored, nil)
	s := p.summary([]*outbox{out}, []time.Duration{0}, time.Second)
	if s.Refused != 3 || s.RefusedBy["xsync FAIL"] != 2 || s.RefusedBy["rest 20000"] != 1 {
		t.Fatalf("refused %d by %v, want xsync FAIL 2, rest 20000 1", s.Refused, s.RefusedBy)
	}
	s.Planned, s.Attempted = 4, 4
	rep := &Report{Kinds: []KindReport{{Kind: kindChat, Send: &s, Deliveries: &Deliveries{}}}}
	rep.judge()
	got := strings.Join(rep.Failures, "; ")
	if !strings.Contains(got, "xsync FAIL 2, rest 20000 1") || strings.Contains(got, "send-rate") {
		t.Errorf("failures %q, want the codes named and no rate hint", got)
	}
	s.RefusedBy["xsync RATE_LIMIT_EXCEEDED"] = 1
	rep.judge()
	if got := strings.Join(rep.Failures, "; "); !strings.Contains(got, "--send-rate") {
		t.Errorf("failures %q, want the rate hint for a rate-limit code", got)
	}
	rep.Faults = true
	rep.judge()
	if !rep.Pass {
		t.Errorf("with Faults, refusals failed the run: %v", rep.Failures)
	}
}
