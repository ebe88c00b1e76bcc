package storetest

import (
	"testing"

	"github.com/imgate/imgate"
)

func (s suite) testDestroyGroup(t *testing.T) {
	s.run(t, "removes what hangs off it, keeps notices", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		ids := mustUsers(t, st, "app", "u", 4)
		g := mustGroup(t, st, newGroup("app", ids[0], "g"), ids[0], ids[1])
		mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
			return hangEverything(tx, ids[2], ids[3])
		})
		mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
			members, err := tx.MemberIDs()
			if err != nil {
				return err
			}
			n := imgate.Notice{Kind: imgate.NoticeGroup, Type: imgate.GroupDestroyed, GroupID: g.ID, At: at(8)}
			if err := tx.Notify(imgate.Notify(members, n)...); err != nil {
				return err
			}
			if err := tx.Destroy(); err != nil {
				return err
			}
			if got, err := tx.MemberIDs(); err != nil || len(got) != 0 {
				t.Errorf("MemberIDs after Destroy = %v, %v; want none", got, err)
			}
			return nil
		})
		wantGone(t, st, g.ID, ids)
		for _, id := range ids[:2] {
			got, err := st.Notices(t.Context(), "app", id, 0, 10)
			if err != nil || len(got) != 1 || got[0].Type != imgate.GroupDestroyed {
				t.Errorf("Notices(%d) = %+v, %v; want the destroy notice kept", id, got, err)
			}
		}
		if app, owned, _, err := st.GroupCounts(t.Context(), "app", ids[0]); err != nil || app != 0 || owned != 0 {
			t.Errorf("GroupCounts after Destroy = %d, %d, %v; want 0, 0", app, owned, err)
		}
	})
	s.run(t, "writes after Destroy fail", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		ids := mustUsers(t, st, "app", "u", 2)
		g := mustGroup(t, st, newGroup("app", ids[0], "g"), ids[0])
		mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
			if err := tx.Destroy(); err != nil {
				return err
			}
			wantCode(t, "AddMember after Destroy", tx.AddMember(imgate.Member{UserID: ids[1]}), imgate.CodeStore)
			wantCode(t, "SaveGroup after Destroy", tx.SaveGroup(tx.Group()), imgate.CodeStore)
			return nil
		})
	})
}

// hangEverything gives the group a blocked user, a kick, an application,
// an invitation, an announcement and a file.
func hangEverything(tx imgate.GroupTx, applicant, invitee int64) error {
	steps := []func() error{
		func() error { return tx.Block(applicant, at(1)) },
		func() error { return tx.AddKick(applicant) },
		func() error { return tx.PutApplication(imgate.GroupApplication{ApplicantID: applicant}) },
		func() error { return tx.PutInvitation(imgate.GroupInvitation{InviteeID: invitee}) },
		func() error { _, err := tx.AddAnnouncement(imgate.Announcement{Title: "t"}); return err },
		func() error { _, err := tx.AddSharedFile(imgate.SharedFile{Name: "f"}); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// wantGone fails t if anything of the destroyed group can still be read.
func wantGone(t *testing.T, st imgate.Store, groupID int64, users []int64) {
	t.Helper()
	ctx := t.Context()
	_, err := st.Group(ctx, "app", groupID)
	wantCode(t, "Group(destroyed)", err, imgate.CodeGroupNotFound)
	err = st.UpdateGroup(ctx, "app", groupID, func(imgate.GroupTx) error { return nil })
	wantCode(t, "UpdateGroup(destroyed)", err, imgate.CodeGroupNotFound)
	ms, err := st.Members(ctx, "app", groupID, imgate.AllMembers, 0, 10)
	wantNonNil(t, "Members(destroyed)", ms, err)
	bs, err := st.GroupBlocks(ctx, "app", groupID, 0, 10)
	wantNonNil(t, "GroupBlocks(destroyed)", bs, err)
	as, err := st.GroupApplications(ctx, "app", []int64{groupID}, [2]int64{}, 10)
	wantNonNil(t, "GroupApplications(destroyed)", as, err)
	ans, err := st.Announcements(ctx, "app", groupID)
	wantNonNil(t, "Announcements(destroyed)", ans, err)
	fs, err := st.SharedFiles(ctx, "app", groupID)
	wantNonNil(t, "SharedFiles(destroyed)", fs, err)
	for _, id := range users {
		gs, err := st.UserGroups(ctx, "app", id)
		wantNonNil(t, "UserGroups(member of destroyed)", gs, err)
		invs, err := st.GroupInvitations(ctx, "app", id, 0, 10)
		wantNonNil(t, "GroupInvitations(of destroyed)", invs, err)
	}
}

func (s suite) testDeleteUserSocial(t *testing.T) {
	s.run(t, "removes the user's roster, memberships and applications", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		ids := mustUsers(t, st, "app", "u", 3)
		alice, bob, carol := ids[0], ids[1], ids[2]
		mustRoster(t, st, "app", alice, bob, func(tx imgate.RosterTx) error {
			return putFriends(tx, alice, bob)
		})
		mustRoster(t, st, "app", alice, carol, func(tx imgate.RosterTx) error {
			if err := tx.PutApplication(imgate.RosterApplication{ApplicantID: alice, TargetID: carol}); err != nil {
				return err
			}
			return tx.Notify(notice("app", alice, "n"))
		})
		g := mustGroup(t, st, newGroup("app", carol, "g"), carol, alice, bob)
		other := mustGroup(t, st, newGroup("app", carol, "other"), carol)
		mustUpdateGroup(t, st, "app", other.ID, func(tx imgate.GroupTx) error {
			return hangEverything(tx, alice, alice)
		})
		if err := st.DeleteUser(t.Context(), "app", alice); err != nil {
			t.Fatalf("DeleteUser = %v", err)
		}
		wantUserGone(t, st, alice, bob, carol, g.ID, other.ID)
	})
}

// putFriends makes a and b friends, both sides.
func putFriends(tx imgate.RosterTx, a, b int64) error {
	if err := tx.PutItem(imgate.RosterItem{OwnerID: a, UserID: b, Friend: true}); err != nil {
		return err
	}
	return tx.PutItem(imgate.RosterItem{OwnerID: b, UserID: a, Friend: true})
}

// wantUserGone fails t if anything of the deleted user can still be read.
func wantUserGone(t *testing.T, st imgate.Store, gone, bob, carol, g, other int64) {
	t.Helper()
	ctx := t.Context()
	if it, err := st.RosterItem(ctx, "app", bob, gone); err != nil || it.Friend {
		t.Errorf("RosterItem(bob, deleted) = %+v, %v; want none", it, err)
	}
	items, err := st.RosterItems(ctx, "app", bob, imgate.FriendsOnly, 0, 10)
	wantNonNil(t, "RosterItems(bob)", items, err)
	apps, err := st.RosterApplications(ctx, "app", carol, imgate.RosterApplicationPos{}, 10)
	wantNonNil(t, "RosterApplications(carol)", apps, err)
	ns, err := st.Notices(ctx, "app", gone, 0, 10)
	wantNonNil(t, "Notices(deleted)", ns, err)
	if got := mustGroupRead(t, st, "app", g); got.Count != 2 {
		t.Errorf("Count after a member's deletion = %d, want 2", got.Count)
	}
	mustUpdateGroup(t, st, "app", g, func(tx imgate.GroupTx) error {
		if n := tx.Group().Count; n != 2 {
			t.Errorf("Count in tx after a member's deletion = %d, want 2", n)
		}
		return nil
	})
	ms, err := st.Members(ctx, "app", g, imgate.AllMembers, 0, 10)
	wantIDs(t, "Members after deletion", memberIDs(ms), err, carol, bob)
	if _, _, joined, err := st.GroupCounts(ctx, "app", gone); err != nil || joined != 0 {
		t.Errorf("GroupCounts(deleted).joined = %d, %v; want 0", joined, err)
	}
	bs, err := st.GroupBlocks(ctx, "app", other, 0, 10)
	wantNonNil(t, "GroupBlocks(deleted)", bs, err)
	as, err := st.GroupApplications(ctx, "app", []int64{other}, [2]int64{}, 10)
	wantNonNil(t, "GroupApplications(deleted)", as, err)
	invs, err := st.GroupInvitations(ctx, "app", gone, 0, 10)
	wantNonNil(t, "GroupInvitations(deleted)", invs, err)
	mustUpdateGroup(t, st, "app", other, func(tx imgate.GroupTx) error {
		if n, err := tx.Kicks(gone); err != nil || n != 0 {
			t.Errorf("Kicks(deleted) = %d, %v; want 0", n, err)
		}
		return nil
	})
}

func (s suite) testSocialIsolation(t *testing.T) {
	s.run(t, "groups of one app are invisible from another", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "a")
		mustApp(t, st, "b")
		alice := mustUser(t, st, newUser("a", "alice")).ID
		carol := mustUser(t, st, newUser("b", "carol")).ID
		g := fullGroup("a", alice)
		g = mustGroup(t, st, g, alice)
		mustUpdateGroup(t, st, "a", g.ID, func(tx imgate.GroupTx) error {
			return hangEverything(tx, alice, alice)
		})
		ctx := t.Context()
		_, err := st.Group(ctx, "b", g.ID)
		wantCode(t, "Group from b", err, imgate.CodeGroupNotFound)
		err = st.UpdateGroup(ctx, "b", g.ID, func(imgate.GroupTx) error { return nil })
		wantCode(t, "UpdateGroup from b", err, imgate.CodeGroupNotFound)
		mustUpdateGroup(t, st, "a", g.ID, func(tx imgate.GroupTx) error {
			wantCode(t, "AddMember(user of b)", tx.AddMember(imgate.Member{UserID: carol}), imgate.CodeUserNotFound)
			return nil
		})
		if _, ok, err := st.Member(ctx, "b", g.ID, alice); ok || err != nil {
			t.Errorf("Member from b = %v, %v; want none", ok, err)
		}
		gs, err := st.Groups(ctx, "b", []int64{g.ID})
		wantNonNil(t, "Groups from b", gs, err)
		wantIsolatedLists(t, st, g.ID, alice)
	})
	s.run(t, "rosters of one app are invisible from another", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "a")
		mustApp(t, st, "b")
		ids := mustUsers(t, st, "a", "u", 2)
		mustRoster(t, st, "a", ids[0], ids[1], func(tx imgate.RosterTx) error {
			if err := putFriends(tx, ids[0], ids[1]); err != nil {
				return err
			}
			if err := tx.PutApplication(imgate.RosterApplication{ApplicantID: ids[0], TargetID: ids[1]}); err != nil {
				return err
			}
			return tx.Notify(notice("a", ids[1], "n"))
		})
		ctx := t.Context()
		err := st.Roster(ctx, "b", ids[0], ids[1], func(imgate.RosterTx) error { return nil })
		wantCode(t, "Roster from b", err, imgate.CodeUserNotFound)
		if it, err := st.RosterItem(ctx, "b", ids[0], ids[1]); err != nil || it.Friend {
			t.Errorf("RosterItem from b = %+v, %v; want none", it, err)
		}
		items, err := st.RosterItems(ctx, "b", ids[0], imgate.FriendsOnly, 0, 10)
		wantNonNil(t, "RosterItems from b", items, err)
		apps, err := st.RosterApplications(ctx, "b", ids[1], imgate.RosterApplicationPos{}, 10)
		wantNonNil(t, "RosterApplications from b", apps, err)
		ns, err := st.Notices(ctx, "b", ids[1], 0, 10)
		wantNonNil(t, "Notices from b", ns, err)
	})
}

// wantIsolatedLists fails t if app b's lists show app a's group or user.
func wantIsolatedLists(t *testing.T, st imgate.Store, g, alice int64) {
	t.Helper()
	ctx := t.Context()
	ms, err := st.Members(ctx, "b", g, imgate.AllMembers, 0, 10)
	wantNonNil(t, "Members from b", ms, err)
	ms, err = st.MembersOf(ctx, "b", g, []int64{alice})
	wantNonNil(t, "MembersOf from b", ms, err)
	ids, err := st.UserGroups(ctx, "b", alice)
	wantNonNil(t, "UserGroups from b", ids, err)
	ids, err = st.PublicGroups(ctx, "b")
	wantNonNil(t, "PublicGroups from b", ids, err)
	bs, err := st.GroupBlocks(ctx, "b", g, 0, 10)
	wantNonNil(t, "GroupBlocks from b", bs, err)
	as, err := st.GroupApplications(ctx, "b", []int64{g}, [2]int64{}, 10)
	wantNonNil(t, "GroupApplications from b", as, err)
	invs, err := st.GroupInvitations(ctx, "b", alice, 0, 10)
	wantNonNil(t, "GroupInvitations from b", invs, err)
	ans, err := st.Announcements(ctx, "b", g)
	wantNonNil(t, "Announcements from b", ans, err)
	fs, err := st.SharedFiles(ctx, "b", g)
	wantNonNil(t, "SharedFiles from b", fs, err)
	if app, owned, joined, err := st.GroupCounts(ctx, "b", alice); err != nil || app+owned+joined != 0 {
		t.Errorf("GroupCounts from b = %d, %d, %d, %v; want zeros", app, owned, joined, err)
	}
}
