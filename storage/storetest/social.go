package storetest

import (
	"errors"
	"strconv"
	"testing"

	"github.com/imgate/imgate"
)

// The helpers of the roster, group and notice cases.

// mustUsers creates users named prefix0, prefix1, … in the app and returns
// their ids in that order.
func mustUsers(t *testing.T, st imgate.Store, appID, prefix string, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = mustUser(t, st, newUser(appID, prefix+strconv.Itoa(i))).ID
	}
	return ids
}

// fullGroup is a group of the app owned by owner with every field set.
func fullGroup(appID string, owner int64) imgate.Group {
	return imgate.Group{
		AppID: appID, Name: "Group", Avatar: "https://a/g.png", Description: "about", Ext: `{"k":1}`,
		OwnerID: owner, Type: imgate.GroupPublic, Capacity: 200, ApplyApproval: imgate.ApplyByAdmin,
		MemberInvite: true, MemberModify: true, ReadAck: true, HistoryVisible: true, HideMemberInfo: true,
		BanAllExpire: -1, CreatedAt: at(3), UpdatedAt: at(4),
	}
}

// newGroup is a group of the app owned by owner with few fields set.
func newGroup(appID string, owner int64, name string) imgate.Group {
	return imgate.Group{AppID: appID, Name: name, OwnerID: owner, Capacity: 100, CreatedAt: at(1), UpdatedAt: at(1)}
}

// mustGroup creates g with the users as members, in order, g's owner
// with the owner's role, and returns the group as stored.
func mustGroup(t *testing.T, st imgate.Store, g imgate.Group, members ...int64) imgate.Group {
	t.Helper()
	got, err := st.CreateGroup(t.Context(), g, func(tx imgate.GroupTx) error {
		return addMembers(tx, members...)
	})
	if err != nil {
		t.Fatalf("CreateGroup(%q) = %v", g.Name, err)
	}
	return got
}

// addMembers adds the users as members, the group's owner as its owner.
func addMembers(tx imgate.GroupTx, ids ...int64) error {
	for _, id := range ids {
		role := imgate.RoleMember
		if id == tx.Group().OwnerID {
			role = imgate.RoleOwner
		}
		if err := tx.AddMember(imgate.Member{UserID: id, Role: role, JoinedAt: at(id % 1000)}); err != nil {
			return err
		}
	}
	return nil
}

// mustUpdateGroup runs UpdateGroup and fails t if it fails.
func mustUpdateGroup(t *testing.T, st imgate.Store, appID string, groupID int64, fn func(imgate.GroupTx) error) {
	t.Helper()
	if err := st.UpdateGroup(t.Context(), appID, groupID, fn); err != nil {
		t.Fatalf("UpdateGroup(%d) = %v", groupID, err)
	}
}

// mustRoster runs Roster and fails t if it fails.
func mustRoster(t *testing.T, st imgate.Store, appID string, a, b int64, fn func(imgate.RosterTx) error) {
	t.Helper()
	if err := st.Roster(t.Context(), appID, a, b, fn); err != nil {
		t.Fatalf("Roster(%d, %d) = %v", a, b, err)
	}
}

// mustGroupRead reads a group and fails t if it fails.
func mustGroupRead(t *testing.T, st imgate.Store, appID string, id int64) imgate.Group {
	t.Helper()
	g, err := st.Group(t.Context(), appID, id)
	if err != nil {
		t.Fatalf("Group(%d) = %v", id, err)
	}
	return g
}

// memberIDs lists the user ids of the members.
func memberIDs(ms []imgate.Member) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	return ids
}

// wantIDs fails t unless the ids are want, in order.
func wantIDs(t *testing.T, what string, got []int64, err error, want ...int64) {
	t.Helper()
	if err != nil {
		t.Errorf("%s = %v", what, err)
		return
	}
	if d := diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// wantNonNil fails t if a list is nil: lists come back empty, not nil.
func wantNonNil[T any](t *testing.T, what string, list []T, err error) {
	t.Helper()
	if err != nil || list == nil || len(list) != 0 {
		t.Errorf("%s = %#v, %v; want an empty, non-nil list", what, list, err)
	}
}

// notice is a roster notice to the user with the content.
func notice(appID string, to int64, content string) imgate.Notice {
	return imgate.Notice{AppID: appID, UserID: to, Kind: imgate.NoticeRoster, Type: imgate.RosterApplied, Content: content, At: at(7)}
}

// seqs lists the Seq of each notice.
func seqs(ns []imgate.Notice) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.Seq
	}
	return out
}

// errBoom is the error the cases' callbacks fail with.
var errBoom = errors.New("boom")
