package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/storage/embedded"
)

// gatedStore is a real store whose AppendMessages waits for a gate and
// counts its calls, so a test can line requests up behind a busy writer.
type gatedStore struct {
	imgate.Store
	gate    chan struct{}
	once    sync.Once
	waiting atomic.Int64
	held    atomic.Int64 // messages waiting at the gate
	calls   atomic.Int64
}

// release opens the gate.
func (g *gatedStore) release() { g.once.Do(func() { close(g.gate) }) }

func (g *gatedStore) AppendMessages(ctx context.Context, msgs []imgate.Message) ([]imgate.Message, []bool, error) {
	g.waiting.Add(1)
	g.held.Add(int64(len(msgs)))
	<-g.gate
	g.calls.Add(1)
	return g.Store.AppendMessages(ctx, msgs)
}

// recorder is a Router keeping every event.
type recorder struct {
	mu     sync.Mutex
	events []*Event
}

func (r *recorder) Resync() {}

func (r *recorder) Deliver(e *Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func setup(t *testing.T) (*Core, *gatedStore, *recorder, []int64) {
	t.Helper()
	return setupWriters(t, 2)
}

// setupWriters is setup with the given number of store writers.
func setupWriters(t *testing.T, writers int) (*Core, *gatedStore, *recorder, []int64) {
	t.Helper()
	ctx := context.Background()
	st, err := embedded.Open(ctx, embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateApp(ctx, imgate.App{ID: "app", Name: "app", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var users []int64
	for i := range 3 {
		u, err := st.CreateUser(ctx, imgate.User{AppID: "app", Username: fmt.Sprint("u", i), PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	gs := &gatedStore{Store: st, gate: make(chan struct{})}
	rec := &recorder{}
	c := New(Config{Writers: writers}, gs, NewLocalBus(rec), slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(c.Close)
	t.Cleanup(gs.release) // before Close, which waits for the writers
	return c, gs, rec, users
}

// queued is how many requests wait in the writers' queues.
func (c *Core) queued() int {
	n := 0
	for _, q := range c.queues {
		n += len(q)
	}
	return n
}

// waitQueued waits until n requests wait in the queues.
func waitQueued(t *testing.T, c *Core, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); c.queued() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", c.queued(), n)
		}
	}
}

func TestConcurrentSendsShareTransactions(t *testing.T) {
	c, gs, rec, users := setup(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := Sender{App: "app", User: users[i%2], Device: 1}
			_, _, err := c.Send(context.Background(), from, []imgate.Message{{
				Kind: imgate.ConvChat, To: users[2], Type: imgate.TypeChat, Content: fmt.Sprint(i), ClientMID: int64(i + 1),
			}})
			errs <- err
		}()
	}
	// The writers of the two conversations (one or two) hold a batch
	// each at the gate; the rest queue up.
	writers := map[int]bool{}
	for _, u := range users[:2] {
		writers[c.writerOf(imgate.Message{AppID: "app", Kind: imgate.ConvChat, From: u, To: users[2]})] = true
	}
	for deadline := time.Now().Add(10 * time.Second); int(gs.held.Load())+c.queued() < n || int(gs.waiting.Load()) < len(writers); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests at the gate or queued, want %d", int(gs.held.Load())+c.queued(), n)
		}
	}
	gs.release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if calls := gs.calls.Load(); calls > 4 {
		t.Errorf("%d sends took %d transactions; queued sends should share them (at most 4 here)", n, calls)
	}
	// Every message was published once, in events whose Seqs have no gap.
	// Publishing follows the answers: wait for it.
	c.Close()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	seen := map[string]bool{}
	for _, e := range rec.events {
		if e.Kind != Stored || e.LastSeq-e.FirstSeq+1 != int64(len(e.Metas)) {
			t.Fatalf("event %+v: %d metas for Seqs %d..%d", e, len(e.Metas), e.FirstSeq, e.LastSeq)
		}
		for _, m := range e.Metas {
			seen[fmt.Sprint(m.Id)] = true
		}
	}
	if len(seen) != n {
		t.Errorf("%d messages published, want %d", len(seen), n)
	}
}

func TestBadRequestFailsAlone(t *testing.T) {
	// A group deleted between the check and the commit fails the send to
	// it; the sends batched with it are stored. One writer, so that the
	// sends to every conversation share its batches.
	c, gs, _, users := setupWriters(t, 1)
	ctx := context.Background()
	g, err := gs.CreateGroup(ctx, imgate.Group{AppID: "app", Name: "g", OwnerID: users[0], Capacity: 10, CreatedAt: time.Now()}, func(tx imgate.GroupTx) error {
		return tx.AddMember(imgate.Member{UserID: users[0], Role: imgate.RoleOwner, JoinedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	from := Sender{App: "app", User: users[0], Device: 1}
	results := make(chan error, 4)
	send := func(kind imgate.ConvKind, to int64, mid int64) {
		_, _, err := c.Send(ctx, from, []imgate.Message{{Kind: kind, To: to, Content: "x", ClientMID: mid}})
		results <- err
	}
	// One request occupies the writer; four more queue as one batch.
	go send(imgate.ConvChat, users[1], 1)
	for deadline := time.Now().Add(10 * time.Second); gs.waiting.Load() < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the writer never took the first send")
		}
	}
	go send(imgate.ConvChat, users[1], 2)
	waitQueued(t, c, 1)
	go send(imgate.ConvGroup, g.ID, 3)
	waitQueued(t, c, 2)
	if err := gs.UpdateGroup(ctx, "app", g.ID, func(tx imgate.GroupTx) error { return tx.Destroy() }); err != nil {
		t.Fatal(err)
	}
	go send(imgate.ConvChat, users[2], 4)
	go send(imgate.ConvChat, users[2], 5)
	waitQueued(t, c, 4)
	gs.release()
	var failed int
	for range 5 {
		if err := <-results; err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d sends failed, want exactly the one to the deleted group", failed)
	}
}
