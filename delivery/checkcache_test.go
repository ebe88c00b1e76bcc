package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// TestCheckCache checks that a block takes effect on the next send when
// it is made through this node's core, and within the TTL when made
// elsewhere (straight on the store, as another node would).
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
