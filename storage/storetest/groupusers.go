package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgate/imgate"
)

func (s suite) testUserGroups(t *testing.T) {
	s.run(t, "counts", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		mustApp(t, st, "other")
		ids := mustUsers(t, st, "app", "u", 3)
		stranger := mustUsers(t, st, "other", "s", 1)[0]
		g1 := mustGroup(t, st, newGroup("app", ids[0], "g1"), ids[0], ids[1])
		mustGroup(t, st, newGroup("app", ids[0], "g2"), ids[0])
		mustGroup(t, st, newGroup("other", stranger, "g3"), stranger)
		var got map[int64]imgate.UserGroupCount
		err := st.UpdateGroup(t.Context(), "app", g1.ID, func(tx imgate.GroupTx) (err error) {
			got, err = tx.UserGroups(ids[2], ids[1], ids[0], ids[0], stranger)
			return err
		})
		want := map[int64]imgate.UserGroupCount{ids[0]: {Owned: 2, Joined: 2}, ids[1]: {Joined: 1}, ids[2]: {}}
		if diff := cmp.Diff(want, got); err != nil || diff != "" {
			t.Errorf("UserGroups = %v (-want +got):\n%s", err, diff)
		}
	})
	s.run(t, "limit holds under concurrent joins", testUserGroupsLimit)
}

// testUserGroupsLimit joins one user to many groups at once, each join
// checking the user's count against a limit in its transaction: the
// count the user ends with is the limit, neither more nor less.
func testUserGroupsLimit(t *testing.T, st imgate.Store) {
	const limit, n = 4, 12
	mustApp(t, st, "app")
	owner := mustUsers(t, st, "app", "o", 1)[0]
	joiner := mustUsers(t, st, "app", "j", 1)[0]
	groups := make([]imgate.Group, n)
	for i := range n {
		groups[i] = mustGroup(t, st, newGroup("app", owner, fmt.Sprint("g", i)), owner)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = st.UpdateGroup(t.Context(), "app", groups[i].ID, func(tx imgate.GroupTx) error {
				counts, err := tx.UserGroups(joiner)
				if err != nil {
					return err
				}
				if counts[joiner].Joined >= limit {
					return imgate.Errorf(imgate.CodeJoinedGroupLimit, "user %d is in %d groups", joiner, counts[joiner].Joined)
				}
				return tx.AddMember(imgate.Member{UserID: joiner, JoinedAt: at(int64(i))})
			})
		})
	}
	wg.Wait()
	refused := 0
	for i, err := range errs {
		switch imgate.ErrorCode(err) {
		case imgate.CodeOK:
		case imgate.CodeJoinedGroupLimit:
			refused++
		default:
			t.Errorf("join %d: UpdateGroup = %v", i, err)
		}
	}
	_, _, joined, err := st.GroupCounts(t.Context(), "app", joiner)
	if err != nil || joined != limit || refused != n-limit {
		t.Errorf("user in %d groups (%v), %d joins refused; want %d and %d", joined, err, refused, limit, n-limit)
	}
}
