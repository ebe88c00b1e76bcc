package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/metrics"
	"github.com/imgate/imgate/storage/postgres"
	"github.com/imgate/imgate/webhook"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openStore opens a store on dsn, migrated.
func openStore(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{DSN: dsn}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// receiver is a webhook endpoint that records the messages it accepted,
// by conversation, and fails while failing is set.
type receiver struct {
	failing  atomic.Bool
	delay    time.Duration
	mu       sync.Mutex
	byConv   map[string][]string // "from>to" → contents, in the order accepted
	inFlight map[string]bool     // event ids being answered
	twice    []string            // event ids answered while already in flight
	seen     map[string]int      // event id → calls accepted
	failed   int
}

func newReceiver() *receiver {
	return &receiver{byConv: map[string][]string{}, inFlight: map[string]bool{}, seen: map[string]int{}}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	id := req.Header.Get(webhook.HeaderEventID)
	r.mu.Lock()
	if r.inFlight[id] {
		r.twice = append(r.twice, id)
	}
	r.inFlight[id] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.inFlight, id)
		r.mu.Unlock()
	}()
	time.Sleep(r.delay)
	if r.failing.Load() {
		r.mu.Lock()
		r.failed++
		r.mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(req.Body)
	var cb webhook.Callback
	if err := json.Unmarshal(body, &cb); err != nil {
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := fmt.Sprintf("%d>%d", min(cb.From.UID, cb.To.UID), max(cb.From.UID, cb.To.UID))
	r.byConv[k] = append(r.byConv[k], cb.Content)
	r.seen[id]++
}

// app creates an app whose webhook is url, with users, and returns
// their ids.
func app(t *testing.T, s imgate.Store, id, url string, users int) []int64 {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateApp(ctx, imgate.App{ID: id, Name: id, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetWebhook(ctx, id, imgate.Webhook{URL: url}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range users {
		u, err := s.CreateUser(ctx, imgate.User{AppID: id, Username: fmt.Sprintf("u%d", i), PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

// sendRounds appends rounds batches; each has one message in each chat
// of users[0] with another user, numbered by round.
func sendRounds(t *testing.T, s imgate.Store, appID string, users []int64, rounds int) {
	t.Helper()
	for r := range rounds {
		var batch []imgate.Message
		for _, to := range users[1:] {
			batch = append(batch, imgate.Message{AppID: appID, Kind: imgate.ConvChat, From: users[0], To: to,
				Type: imgate.TypeChat, Content: fmt.Sprint(r), At: time.Now()})
		}
		if _, _, err := s.AppendMessages(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs a dispatcher until t ends.
func run(t *testing.T, s webhook.Store, cfg webhook.Config) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		webhook.New(cfg, s, quiet(), metrics.New(nil)).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// waitAll waits until the receiver accepted rounds messages in each of
// convs conversations.
func (r *receiver) waitAll(t *testing.T, convs, rounds int, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		r.mu.Lock()
		n := 0
		for _, got := range r.byConv {
			n += len(got)
		}
		r.mu.Unlock()
		if n >= convs*rounds {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver accepted %d of %d messages", n, convs*rounds)
		}
	}
}

// checkOrder fails t unless each conversation got 0..rounds-1 once each,
// in order.
func (r *receiver) checkOrder(t *testing.T, convs, rounds int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.byConv) != convs {
		t.Errorf("messages of %d conversations, want %d", len(r.byConv), convs)
	}
	for k, got := range r.byConv {
		for i, c := range got {
			if c != fmt.Sprint(i) {
				t.Errorf("conversation %s: got %v, want 0..%d in order, once each", k, got, rounds-1)
				break
			}
		}
	}
}

// TestRecoveredEndpointGetsEverythingInOrder: an endpoint that fails for
// a while (long enough for events to park) gets every event once it
// answers again, in order within each conversation.
func TestRecoveredEndpointGetsEverythingInOrder(t *testing.T) {
	s := openStore(t, pgtest.DSN(t))
	r := newReceiver()
	r.failing.Store(true)
	srv := httptest.NewServer(r)
	defer srv.Close()
	users := app(t, s, "app", srv.URL, 4)
	const rounds = 8
	run(t, s, webhook.Config{MinBackOff: 5 * time.Millisecond, MaxBackOff: 200 * time.Millisecond, ParkAfter: 3, Poll: 10 * time.Millisecond})
	sendRounds(t, s, "app", users, rounds)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		stats, err := s.OutboxStats(t.Context(), 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(stats) == 1 && stats[0].Parked >= 3 {
			break // each conversation's head is parked
		}
		if time.Now().After(deadline) {
			t.Fatalf("no events parked: %+v", stats)
		}
	}
	r.failing.Store(false)
	r.waitAll(t, len(users)-1, rounds, 20*time.Second)
	r.checkOrder(t, len(users)-1, rounds)
	if r.failed == 0 {
		t.Error("the endpoint was never called while it failed")
	}
}

// TestTwoNodesShareTheOutbox: two dispatchers on one Postgres, each with
// a store of its own, send every event once, never one event twice at
// the same time, each conversation in order.
func TestTwoNodesShareTheOutbox(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	r := newReceiver()
	r.delay = 3 * time.Millisecond
	srv := httptest.NewServer(r)
	defer srv.Close()
	users := app(t, a, "app", srv.URL, 11)
	const rounds = 10
	cfg := webhook.Config{PerApp: 8, MinBackOff: 5 * time.Millisecond, Poll: 5 * time.Millisecond}
	run(t, a, cfg)
	run(t, b, cfg)
	sendRounds(t, a, "app", users, rounds)
	r.waitAll(t, len(users)-1, rounds, 60*time.Second)
	r.checkOrder(t, len(users)-1, rounds)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.twice) > 0 {
		t.Errorf("events sent twice at once: %v", r.twice)
	}
	for id, n := range r.seen {
		if n != 1 {
			t.Errorf("event %s accepted %d times", id, n)
		}
	}
}

// TestBusyAppStarvesNoOther: an app whose endpoint stalls, with more
// conversations waiting than a claim takes, holds its own calls only:
// another app's events are sent meanwhile.
func TestBusyAppStarvesNoOther(t *testing.T) {
	s := openStore(t, pgtest.DSN(t))
	stall := make(chan struct{})
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	defer busy.Close()
	defer close(stall)
	calm := newReceiver()
	srv := httptest.NewServer(calm)
	defer srv.Close()
	busyUsers := app(t, s, "busy", busy.URL, 21)
	calmUsers := app(t, s, "calm", srv.URL, 3)
	sendRounds(t, s, "busy", busyUsers, 1) // older: first in every claim
	sendRounds(t, s, "calm", calmUsers, 2)
	run(t, s, webhook.Config{PerApp: 1, InFlight: 4, Poll: 5 * time.Millisecond})
	calm.waitAll(t, len(calmUsers)-1, 2, 10*time.Second)
	calm.checkOrder(t, len(calmUsers)-1, 2)
}
