package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/imgate/imgate"
)

func (s suite) testMixedWriters(t *testing.T) {
	s.run(t, "no deadlock, dense seqs", testMixedWriters)
}

// testMixedWriters runs roster changes, group membership changes and user
// updates over a few shared users at once, each change notifying the
// users it touches. Every change must succeed: the stores take their
// locks in orders that cannot deadlock (on PostgreSQL a roster lock that
// blocked foreign-key checks would, against group notices). Each user's
// notice Seqs must then be 1..n.
func testMixedWriters(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	users := mustUsers(t, st, "app", "u", 12)
	var groups []int64
	for i := range 3 {
		groups = append(groups, mustGroup(t, st, newGroup("app", users[i], "g"), users[i]).ID)
	}
	const workers, ops = 16, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range ops {
				if err := mixedOp(t, st, r, users, groups); err != nil {
					t.Errorf("worker %d, op %d: %v", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	for _, u := range users {
		ns, err := st.Notices(t.Context(), "app", u, 0, workers*ops*2)
		if err != nil {
			t.Fatalf("Notices(%d) = %v", u, err)
		}
		for i, n := range ns {
			if n.Seq != int64(i+1) {
				t.Fatalf("notice %d of user %d has Seq %d, want %d", i, u, n.Seq, i+1)
			}
		}
	}
}

// mixedOp runs one random change of testMixedWriters.
func mixedOp(t *testing.T, st imgate.Store, r *rand.Rand, users, groups []int64) error {
	ctx := t.Context()
	u, v := users[r.IntN(len(users))], users[r.IntN(len(users))]
	switch r.IntN(4) {
	case 0, 1:
		return st.Roster(ctx, "app", u, v, func(tx imgate.RosterTx) error {
			it, err := tx.Item(u, v)
			if err != nil {
				return err
			}
			it.Friend = !it.Friend
			if err := tx.PutItem(it); err != nil {
				return err
			}
			return tx.Notify(notice("app", v, "roster"), notice("app", u, "roster"))
		})
	case 2:
		return st.UpdateGroup(ctx, "app", groups[r.IntN(len(groups))], func(tx imgate.GroupTx) error {
			return toggleMember(tx, u)
		})
	}
	_, err := st.UpdateUser(ctx, "app", u, func(x *imgate.User) error {
		x.NickName = fmt.Sprint(r.Int())
		return nil
	})
	return err
}

// toggleMember adds the user to the group or removes it, and notifies
// the members and the user.
func toggleMember(tx imgate.GroupTx, userID int64) error {
	_, ok, err := tx.Member(userID)
	switch {
	case err != nil:
		return err
	case ok:
		err = tx.RemoveMember(userID)
	default:
		err = tx.AddMember(imgate.Member{UserID: userID})
	}
	if err != nil {
		return err
	}
	ids, err := tx.MemberIDs()
	if err != nil {
		return err
	}
	n := imgate.Notice{Kind: imgate.NoticeGroup, Type: imgate.GroupJoined, GroupID: tx.Group().ID}
	return tx.Notify(imgate.Notify(append(ids, userID), n)...)
}
