package delivery

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// TestCheckCache checks that a block takes effect on the next send when
// it is made through the core, and within the TTL when no invalidation
// announces it (straight on the store, as a change whose invalidation
// was lost).
func TestCheckCache(t *testing.T) {
	c, gs, _, users := setup(t)
	gs.release()
	ctx := context.Background()
	a, b, d := users[0], users[1], users[2]
	clock := time.Now()
	c.now = func() time.Time { return clock }
	send := func(from, to int64) error {
		_, _, err := c.Send(ctx, Sender{App: "app", User: from, Device: 1}, []imgate.Message{{Kind: imgate.ConvChat, To: to, Content: "hi"}})
		return err
	}
	block := func(st imgate.Store, owner, user int64) {
		t.Helper()
		err := st.Roster(ctx, "app", owner, user, func(tx imgate.RosterTx) error {
			item, err := tx.Item(owner, user)
			if err != nil {
				return err
			}
			item.Blocked = true
			return tx.PutItem(item)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// a writes to b: the pass is cached. b blocks a through the core:
	// the next send is refused at once.
	if err := send(a, b); err != nil {
		t.Fatal(err)
	}
	block(c.Notifying(gs), b, a)
	if err := send(a, b); imgate.ErrorCode(err) != imgate.CodeInBlacklist {
		t.Errorf("send after a block through the core: %v, want %d", err, imgate.CodeInBlacklist)
	}
	// d writes to b; b blocks d on "another node": the pass holds until
	// the TTL runs out, then the block is read.
	if err := send(d, b); err != nil {
		t.Fatal(err)
	}
	block(gs, b, d)
	if err := send(d, b); err != nil {
		t.Errorf("send within the TTL of a pass: %v, want it passed from the cache", err)
	}
	clock = clock.Add(c.cfg.CheckCacheTTL + time.Millisecond)
	if err := send(d, b); imgate.ErrorCode(err) != imgate.CodeInBlacklist {
		t.Errorf("send after the TTL: %v, want %d", err, imgate.CodeInBlacklist)
	}
}

// TestCheckCacheDrops checks that an invalidation drops exactly the
// passes that name its users (as sender or chat peer) or groups.
func TestCheckCacheDrops(t *testing.T) {
	now := time.Now()
	chat := func(app string, from, to int64) checkKey {
		return checkKey{app: app, user: from, conv: imgate.Conv{Kind: imgate.ConvChat, Peer: to}}
	}
	group := func(from, g int64) checkKey {
		return checkKey{app: "app", user: from, conv: imgate.Conv{Kind: imgate.ConvGroup, Peer: g}}
	}
	all := []checkKey{chat("app", 1, 2), chat("app", 2, 1), chat("app", 3, 4), chat("other", 1, 2), group(1, 10), group(3, 10), group(3, 11)}
	tests := []struct {
		name string
		inv  Invalidation
		kept []checkKey
	}{
		{"a user as sender and peer", Invalidation{App: "app", Users: []int64{1}}, []checkKey{chat("app", 3, 4), chat("other", 1, 2), group(3, 10), group(3, 11)}},
		{"a peer only", Invalidation{App: "app", Users: []int64{4}}, []checkKey{chat("app", 1, 2), chat("app", 2, 1), chat("other", 1, 2), group(1, 10), group(3, 10), group(3, 11)}},
		{"a group", Invalidation{App: "app", Groups: []int64{10}}, []checkKey{chat("app", 1, 2), chat("app", 2, 1), chat("app", 3, 4), chat("other", 1, 2), group(3, 11)}},
		{"another app's user", Invalidation{App: "other", Users: []int64{2}}, []checkKey{chat("app", 1, 2), chat("app", 2, 1), chat("app", 3, 4), group(1, 10), group(3, 10), group(3, 11)}},
		{"all", Invalidation{All: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCheckCache(time.Minute, nil, metrics.New(nil).Cache("send_check"))
			for _, k := range all {
				c.pass(k, now, 0)
			}
			c.drop(tt.inv)
			var kept []checkKey
			for _, k := range all {
				if _, ok := c.passed(k, now); ok {
					kept = append(kept, k)
				}
			}
			if !slices.Equal(kept, tt.kept) {
				t.Errorf("kept %v, want %v", kept, tt.kept)
			}
			// A dropped entry leaves no trace in the indexes.
			c.drop(Invalidation{App: "app", Users: []int64{1, 2, 3, 4}, Groups: []int64{10, 11}})
			c.drop(Invalidation{App: "other", Users: []int64{1, 2}})
			if n, u, g := c.size(), len(c.byUser), len(c.byGroup); n+u+g != 0 {
				t.Errorf("after dropping everyone: %d entries, %d users and %d groups indexed, want none", n, u, g)
			}
		})
	}
}

// TestCheckCacheRace checks that a check begun before an invalidation is
// not kept: it may have read the store before the change.
func TestCheckCacheRace(t *testing.T) {
	now := time.Now()
	k := checkKey{app: "app", user: 1, conv: imgate.Conv{Kind: imgate.ConvChat, Peer: 2}}
	c := newCheckCache(time.Minute, nil, metrics.New(nil).Cache("send_check"))
	gen, _ := c.passed(k, now)
	c.drop(Invalidation{App: "app", Users: []int64{7}}) // any invalidation
	c.pass(k, now, gen)
	if _, ok := c.passed(k, now); ok {
		t.Error("a check begun before an invalidation was kept")
	}
}

// TestCheckCacheDegraded checks that while invalidations may be lost a
// pass is trusted only for the short TTL.
func TestCheckCacheDegraded(t *testing.T) {
	now := time.Now()
	k := checkKey{app: "app", user: 1, conv: imgate.Conv{Kind: imgate.ConvChat, Peer: 2}}
	degraded := false
	c := newCheckCache(time.Minute, func() bool { return degraded }, metrics.New(nil).Cache("send_check"))
	c.pass(k, now, 0)
	later := now.Add(2 * checkCacheDegradedTTL)
	tests := []struct {
		degraded bool
		at       time.Time
		want     bool
	}{
		{false, later, true},
		{true, now.Add(checkCacheDegradedTTL / 2), true},
		{true, later, false},
		{false, now.Add(time.Minute), false},
	}
	for _, tt := range tests {
		degraded = tt.degraded
		if _, ok := c.passed(k, tt.at); ok != tt.want {
			t.Errorf("degraded %v, %s after the pass: trusted %v, want %v", tt.degraded, tt.at.Sub(now), ok, tt.want)
		}
	}
}
