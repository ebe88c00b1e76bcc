package delivery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// fakeClock is a settable clock for the limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// TestSendLimits sends through the core past a user's and an app's
// messages per second: the send that would pass a limit is refused with
// 10028 and stores nothing, the next second admits again, and admin
// tokens count against the app only.
func TestSendLimits(t *testing.T) {
	c, gs, _, users := setupWriters(t, 1)
	gs.release()
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	c.limits = newLimiter(SendLimits{User: 3, App: 5}, clock.now, c.bus, c.log, c.cfg.Metrics)
	mid := int64(0)
	send := func(from Sender, n int) error {
		msgs := make([]imgate.Message, n)
		for i := range msgs {
			mid++
			msgs[i] = imgate.Message{Kind: imgate.ConvChat, To: users[2], Content: "hi", ClientMID: mid}
		}
		_, _, err := c.Send(context.Background(), from, msgs)
		return err
	}
	alice := Sender{App: "app", User: users[0], Device: 1}
	aliceOther := Sender{App: "app", User: users[0], Device: 2}
	bob := Sender{App: "app", User: users[1], Device: 1}
	admin := Sender{App: "app", User: users[1], Admin: true}

	for i, c := range []struct {
		name string
		from Sender
		n    int
		want int // error code; 0: admitted
	}{
		{"alice's first two", alice, 2, 0},
		{"alice's other device, the third", aliceOther, 1, 0},
		{"alice's fourth", alice, 1, imgate.CodeTooManyAttempts},
		{"bob's first two: app at 5", bob, 2, 0},
		{"an admin as bob: app over 5", admin, 1, imgate.CodeTooManyAttempts},
	} {
		if got := imgate.ErrorCode(send(c.from, c.n)); got != c.want && !(c.want == 0 && got == imgate.CodeOK) {
			t.Errorf("%d %s: code %d, want %d", i, c.name, got, c.want)
		}
	}
	clock.add(time.Second)
	if err := send(alice, 3); err != nil {
		t.Errorf("alice's three in the next second: %v", err)
	}
	if err := send(admin, 2); err != nil {
		t.Errorf("an admin's two as bob, the app's fourth and fifth: %v", err)
	}
	if err := send(admin, 1); imgate.ErrorCode(err) != imgate.CodeTooManyAttempts {
		t.Errorf("an admin's sixth: %v, want refused by the app's limit", err)
	}
	// Stored: 2 + 1 + 2 (first second) + 3 + 2 (second).
	msgs, err := c.store.Messages(context.Background(), "app", users[2], imgate.Conv{Kind: imgate.ConvChat, Peer: users[0]}, 0, 100)
	if err != nil || len(msgs) != 6 {
		t.Errorf("alice's stored messages: %d, %v; want 6", len(msgs), err)
	}
}

// TestLimiterForgetsPastWindows checks that a node without a shared
// counter keeps no count of a past second: one entry per user who ever
// sent would pile up.
func TestLimiterForgetsPastWindows(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := newLimiter(SendLimits{User: 5, App: 1000}, clock.now, NewLocalBus(&recorder{}), nil, metrics.New(nil))
	defer l.close()
	for u := range int64(100) {
		if err := l.admit(Sender{App: "app", User: u + 1}, 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.size(); n != 101 {
		t.Fatalf("%d counts in the current second, want 101 (100 users and the app)", n)
	}
	// The node's own loop drops them once their second has passed.
	clock.add(time.Second)
	for deadline := time.Now().Add(5 * time.Second); l.size() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d counts left of a past second, want none", l.size())
		}
	}
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.counts)
}

// BenchmarkLimiterAdmit is the cost the send limits add to each send:
// one user and its app counted, among 10,000 users sending.
func BenchmarkLimiterAdmit(b *testing.B) {
	l := newLimiter(SendLimits{User: 1 << 30, App: 1 << 30}, time.Now, NewLocalBus(&recorder{}), nil, metrics.New(nil))
	defer l.close()
	i := int64(0)
	for b.Loop() {
		i++
		if err := l.admit(Sender{App: "app", User: i%10_000 + 1}, 1); err != nil {
			b.Fatal(err)
		}
	}
}
