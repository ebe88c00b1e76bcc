package admin_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/imgate/imgate"
)

// TestReviewOwnerDeleted: deleting the owner's account (/user/delete) must
// not leave a group without an owner. Either the group goes with its owner
// (20001 afterwards) or another member becomes the owner; in both cases the
// remaining members must still be able to use the group, and an outsider
// must be able to apply to it.
func TestReviewOwnerDeleted(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "rod")
		a.ok("POST", "/user/delete", a.as(a.admin, g.owner.id), nil, nil)

		r := a.do("GET", g.q("/group/info"), a.as(g.member.tok), nil)
		if r.Code == 20001 {
			return // destroyed with its owner: consistent
		}
		var info struct {
			OwnerID int64 `json:"owner_id"`
		}
		a.ok("GET", g.q("/group/info"), a.as(g.member.tok), nil, &info)
		members := gcMembers(t, a, a.as(a.admin), g.id)
		if !slices.Contains(members, info.OwnerID) {
			t.Fatalf("group %d: owner_id %d (deleted) is not among the members %v: the group has no owner", g.id, info.OwnerID, members)
		}
		// With a living owner, applications reach the staff.
		a.ok("POST", "/group/apply", a.as(g.outsider.tok), map[string]any{"group_id": g.id}, nil)
	})
}

// TestReviewApplyAfterOwnerDeleted: the direct consequence seen by users:
// once the owner's account is deleted, nobody can apply to the group any
// more (the application's notice to the vanished owner fails the whole
// request with 10000).
func TestReviewApplyAfterOwnerDeleted(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "rad")
		a.ok("POST", "/user/delete", a.as(a.admin, g.owner.id), nil, nil)
		if r := a.do("GET", g.q("/group/info"), a.as(g.member.tok), nil); r.Code == 20001 {
			return
		}
		a.ok("POST", "/group/apply", a.as(g.outsider.tok), map[string]any{"group_id": g.id, "reason": "hi"}, nil)
	})
}

// TestReviewInviterDeleted: an invitation whose inviter deleted the account
// must still be answerable by the invitee (accept joins the group; decline
// settles it). Now both fail with 10000 because the INVITE_ACCEPTED /
// INVITE_DECLINED notice is addressed to the vanished inviter, and the
// invitee is stuck with a pending invitation for a week.
func TestReviewInviterDeleted(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "rid")
		gcConfirm(a, g.outsider)
		gcResults(t, a, "POST", "/group/invite", a.as(g.member.tok), g.body(g.outsider.id), map[int64]string{g.outsider.id: "success"})
		a.ok("POST", "/user/delete", a.as(a.admin, g.member.id), nil, nil)
		a.ok("POST", "/group/invite/handle", a.as(g.outsider.tok),
			map[string]any{"group_id": g.id, "user_id": g.member.id, "approval": true}, nil)
		gcWantMembers(t, a, g.id, g.owner.id, g.admin.id, g.member2.id, g.outsider.id)
	})
}

// TestOwnerDeletedHandOff pins down the hand-off: the longest-standing
// admin inherits the group (before older plain members), every member
// is told, and a group whose owner was alone goes with the owner.
func TestOwnerDeletedHandOff(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		owner, otok := a.user("ho_owner")
		older, _ := a.user("ho_older")
		adminID, _ := a.user("ho_admin")
		var g struct {
			GroupID int64 `json:"group_id"`
		}
		a.ok("POST", "/group/create", a.as(otok), map[string]any{"name": "heirs", "user_list": []int64{older, adminID}}, &g)
		a.ok("POST", "/group/admin/add", a.as(otok), map[string]any{"group_id": g.GroupID, "user_list": []int64{adminID}}, nil)
		var lone struct {
			GroupID int64 `json:"group_id"`
		}
		a.ok("POST", "/group/create", a.as(otok), map[string]any{"name": "alone"}, &lone)

		a.ok("POST", "/user/delete", a.as(a.admin, owner), nil, nil)

		var info struct {
			OwnerID int64 `json:"owner_id"`
			Count   int   `json:"count"`
		}
		a.ok("GET", fmt.Sprintf("/group/info?group_id=%d", g.GroupID), a.as(a.admin), nil, &info)
		if info.OwnerID != adminID || info.Count != 2 {
			t.Errorf("after the owner's deletion: owner %d, count %d; want the admin %d and 2 members", info.OwnerID, info.Count, adminID)
		}
		ns, err := a.store.Notices(t.Context(), a.app, older, 0, 100)
		if err != nil || !slices.ContainsFunc(ns, func(n imgate.Notice) bool {
			return n.Type == imgate.GroupOwnerAssigned && n.GroupID == g.GroupID && slices.Equal(n.To, []int64{adminID})
		}) {
			t.Errorf("members were not told of the new owner: %+v, %v", ns, err)
		}
		a.fails(imgate.CodeGroupNotFound, "GET", fmt.Sprintf("/group/info?group_id=%d", lone.GroupID), a.as(a.admin), nil)
	})
}
