package storetest

import (
	"testing"

	"github.com/imgate/imgate"
)

func (s suite) testGroupExtras(t *testing.T) {
	s.run(t, "blacklist and kicks", testGroupBlocks)
	s.run(t, "applications", testGroupApplications)
	s.run(t, "invitations", testGroupInvitations)
	s.run(t, "announcements", testAnnouncements)
	s.run(t, "files", testSharedFiles)
}

func testGroupBlocks(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	mustApp(t, st, "other")
	ids := mustUsers(t, st, "app", "u", 4)
	stranger := mustUser(t, st, newUser("other", "carol")).ID
	g := mustGroup(t, st, newGroup("app", ids[0], "g"), ids[0])
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		for i, id := range []int64{ids[3], ids[1], ids[2]} {
			if err := tx.Block(id, at(int64(10+i))); err != nil {
				return err
			}
		}
		if err := tx.Block(ids[3], at(99)); err != nil {
			t.Errorf("Block(again) = %v, want nil", err)
		}
		if err := tx.Unblock(ids[2]); err != nil {
			return err
		}
		if err := tx.Unblock(ids[2]); err != nil {
			t.Errorf("Unblock(not blocked) = %v, want nil", err)
		}
		wantCode(t, "Block(user of another app)", tx.Block(stranger, at(1)), imgate.CodeUserNotFound)
		for id, want := range map[int64]bool{ids[1]: true, ids[2]: false, ids[3]: true, ids[0]: false} {
			if got, err := tx.Blocked(id); err != nil || got != want {
				t.Errorf("Blocked(%d) = %v, %v; want %v", id, got, err, want)
			}
		}
		if n, err := tx.Kicks(ids[1]); err != nil || n != 0 {
			t.Errorf("Kicks(never kicked) = %d, %v; want 0", n, err)
		}
		for range 2 {
			if err := tx.AddKick(ids[1]); err != nil {
				return err
			}
		}
		if n, err := tx.Kicks(ids[1]); err != nil || n != 2 {
			t.Errorf("Kicks(kicked twice) = %d, %v; want 2", n, err)
		}
		wantCode(t, "AddKick(user of another app)", tx.AddKick(stranger), imgate.CodeUserNotFound)
		return nil
	})
	want := []imgate.GroupBlock{
		{GroupID: g.ID, UserID: ids[1], CreatedAt: at(11)},
		{GroupID: g.ID, UserID: ids[3], CreatedAt: at(10)},
	}
	got, err := st.GroupBlocks(t.Context(), "app", g.ID, 0, 10)
	if d := diff(want, got); err != nil || d != "" {
		t.Errorf("GroupBlocks = %v, mismatch (-want +got):\n%s", err, d)
	}
	got, err = st.GroupBlocks(t.Context(), "app", g.ID, 0, 1)
	wantIDs(t, "GroupBlocks(page 1)", blockIDs(got), err, ids[1])
	got, err = st.GroupBlocks(t.Context(), "app", g.ID, ids[1], 1)
	wantIDs(t, "GroupBlocks(page 2)", blockIDs(got), err, ids[3])
	got, err = st.GroupBlocks(t.Context(), "app", g.ID, ids[3], 1)
	wantNonNil(t, "GroupBlocks(page 3)", got, err)
}

func blockIDs(bs []imgate.GroupBlock) []int64 {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.UserID
	}
	return ids
}

func testGroupApplications(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 4)
	var groups []imgate.Group
	for _, name := range []string{"g1", "g2", "g3"} {
		groups = append(groups, mustGroup(t, st, newGroup("app", ids[0], name), ids[0]))
	}
	g1, g2, g3 := groups[0].ID, groups[1].ID, groups[2].ID
	put := map[int64][]int64{g1: {ids[2], ids[1]}, g2: {ids[3], ids[1]}, g3: {ids[1]}}
	for gid, applicants := range put {
		mustUpdateGroup(t, st, "app", gid, func(tx imgate.GroupTx) error {
			_, ok, err := tx.Application(ids[0])
			if ok || err != nil {
				t.Errorf("Application(none) = %v, %v; want none", ok, err)
			}
			wantCode(t, "PutApplication(no user)", tx.PutApplication(imgate.GroupApplication{ApplicantID: ids[0] + 1000}), imgate.CodeUserNotFound)
			return putApplications(t, tx, applicants...)
		})
	}
	type pair = [2]int64
	list := func(after pair, limit int) []pair {
		got, err := st.GroupApplications(t.Context(), "app", []int64{g2, g1, g2}, after, limit)
		if err != nil {
			t.Fatalf("GroupApplications(%v, %d) = %v", after, limit, err)
		}
		out := make([]pair, len(got))
		for i, a := range got {
			out[i] = pair{a.GroupID, a.ApplicantID}
			if a.Reason != "second" {
				t.Errorf("GroupApplications listed %+v, want the replacing application", a)
			}
		}
		return out
	}
	all := []pair{{g1, ids[1]}, {g1, ids[2]}, {g2, ids[1]}, {g2, ids[3]}}
	for _, tt := range []struct {
		name  string
		after pair
		limit int
		want  []pair
	}{
		{"all", pair{}, 10, all},
		{"page 1", pair{}, 3, all[:3]},
		{"page 2", all[2], 3, all[3:]},
		{"within a group", all[0], 1, all[1:2]},
		{"past the end", all[3], 3, []pair{}},
	} {
		if d := diff(tt.want, list(tt.after, tt.limit)); d != "" {
			t.Errorf("GroupApplications(%s) mismatch (-want +got):\n%s", tt.name, d)
		}
	}
	got, err := st.GroupApplications(t.Context(), "app", nil, pair{}, 10)
	wantNonNil(t, "GroupApplications(no groups)", got, err)
}

// putApplications puts a first application of each applicant and then
// the one that replaces it, "second", checking it in the transaction.
func putApplications(t *testing.T, tx imgate.GroupTx, applicants ...int64) error {
	for _, a := range applicants {
		if err := tx.PutApplication(imgate.GroupApplication{ApplicantID: a, Reason: "first"}); err != nil {
			return err
		}
		app := imgate.GroupApplication{GroupID: tx.Group().ID, ApplicantID: a, Reason: "second", Status: imgate.ApplicationAccepted,
			ExpiresAt: at(9), CreatedAt: at(1), UpdatedAt: at(2)}
		if err := tx.PutApplication(app); err != nil {
			return err
		}
		got, ok, err := tx.Application(a)
		if d := diff(app, got); !ok || err != nil || d != "" {
			t.Errorf("Application in tx = %v, %v, mismatch (-want +got):\n%s", ok, err, d)
		}
	}
	return nil
}

func testGroupInvitations(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	invitee := ids[2]
	var gids []int64
	for _, name := range []string{"g1", "g2", "g3"} {
		g := mustGroup(t, st, newGroup("app", ids[0], name), ids[0], ids[1])
		gids = append(gids, g.ID)
		mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
			if err := tx.PutInvitation(imgate.GroupInvitation{InviterID: ids[0], InviteeID: invitee, Reason: "first"}); err != nil {
				return err
			}
			inv := imgate.GroupInvitation{GroupID: g.ID, InviterID: ids[1], InviteeID: invitee, Reason: "latest",
				Status: imgate.ApplicationPending, ExpiresAt: at(9), CreatedAt: at(1), UpdatedAt: at(2)}
			if err := tx.PutInvitation(inv); err != nil {
				return err
			}
			got, ok, err := tx.Invitation(invitee)
			if d := diff(inv, got); !ok || err != nil || d != "" {
				t.Errorf("Invitation in tx = %v, %v, mismatch (-want +got):\n%s", ok, err, d)
			}
			if _, ok, err := tx.Invitation(ids[1]); ok || err != nil {
				t.Errorf("Invitation(none) = %v, %v; want none", ok, err)
			}
			wantCode(t, "PutInvitation(no user)", tx.PutInvitation(imgate.GroupInvitation{InviteeID: invitee + 1000}), imgate.CodeUserNotFound)
			return nil
		})
	}
	list := func(after int64, limit int) []int64 {
		got, err := st.GroupInvitations(t.Context(), "app", invitee, after, limit)
		if err != nil {
			t.Fatalf("GroupInvitations(%d, %d) = %v", after, limit, err)
		}
		out := make([]int64, len(got))
		for i, inv := range got {
			out[i] = inv.GroupID
			if inv.InviterID != ids[1] || inv.Reason != "latest" {
				t.Errorf("GroupInvitations listed %+v, want the latest inviter's", inv)
			}
		}
		return out
	}
	wantIDs(t, "GroupInvitations(all)", list(0, 10), nil, gids...)
	wantIDs(t, "GroupInvitations(page 1)", list(0, 2), nil, gids[:2]...)
	wantIDs(t, "GroupInvitations(page 2)", list(gids[1], 2), nil, gids[2])
	got, err := st.GroupInvitations(t.Context(), "app", ids[1], 0, 10)
	wantNonNil(t, "GroupInvitations(of no invitee)", got, err)
}

func testAnnouncements(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	owner := mustUser(t, st, newUser("app", "alice")).ID
	g := mustGroup(t, st, newGroup("app", owner, "g"), owner)
	other := mustGroup(t, st, newGroup("app", owner, "other"), owner)
	var added []imgate.Announcement
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		for i, ms := range []int64{1, 3, 2} {
			a, err := tx.AddAnnouncement(imgate.Announcement{Title: "t", Content: string(rune('a' + i)), AuthorID: owner, CreatedAt: at(ms)})
			if err != nil {
				return err
			}
			if a.ID <= 0 || a.GroupID != g.ID {
				t.Errorf("AddAnnouncement = %+v, want an id and the group", a)
			}
			added = append(added, a)
			got, ok, err := tx.Announcement(a.ID)
			if d := diff(a, got); !ok || err != nil || d != "" {
				t.Errorf("Announcement in tx = %v, %v, mismatch (-want +got):\n%s", ok, err, d)
			}
		}
		return nil
	})
	got, err := st.Announcements(t.Context(), "app", g.ID)
	if d := diff([]imgate.Announcement{added[1], added[2], added[0]}, got); err != nil || d != "" {
		t.Errorf("Announcements = %v, mismatch (-want +got):\n%s", err, d)
	}
	mustUpdateGroup(t, st, "app", other.ID, func(tx imgate.GroupTx) error {
		if _, ok, err := tx.Announcement(added[0].ID); ok || err != nil {
			t.Errorf("Announcement(of another group) = %v, %v; want none", ok, err)
		}
		wantCode(t, "DeleteAnnouncement(of another group)", tx.DeleteAnnouncement(added[0].ID), imgate.CodeAnnouncementNotFound)
		return nil
	})
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		if err := tx.DeleteAnnouncement(added[1].ID); err != nil {
			return err
		}
		wantCode(t, "DeleteAnnouncement(again)", tx.DeleteAnnouncement(added[1].ID), imgate.CodeAnnouncementNotFound)
		return nil
	})
	got, err = st.Announcements(t.Context(), "app", g.ID)
	if d := diff([]imgate.Announcement{added[2], added[0]}, got); err != nil || d != "" {
		t.Errorf("Announcements after delete = %v, mismatch (-want +got):\n%s", err, d)
	}
	got, err = st.Announcements(t.Context(), "app", other.ID)
	wantNonNil(t, "Announcements(none)", got, err)
}

func testSharedFiles(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	owner := mustUser(t, st, newUser("app", "alice")).ID
	g := mustGroup(t, st, newGroup("app", owner, "g"), owner)
	var added []imgate.SharedFile
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		for _, ms := range []int64{2, 1} {
			f, err := tx.AddSharedFile(imgate.SharedFile{Name: "f.txt", Size: 10, Type: "text/plain", URL: "https://f",
				UploaderID: owner, CreatedAt: at(ms), UpdatedAt: at(ms)})
			if err != nil {
				return err
			}
			added = append(added, f)
		}
		if added[0].ID == added[1].ID || added[0].ID <= 0 {
			t.Errorf("AddSharedFile ids %d, %d; want distinct positive ids", added[0].ID, added[1].ID)
		}
		renamed := added[1]
		renamed.Name, renamed.UpdatedAt = "g.txt", at(5)
		if err := tx.SaveSharedFile(renamed); err != nil {
			return err
		}
		added[1] = renamed
		got, ok, err := tx.SharedFile(renamed.ID)
		if d := diff(renamed, got); !ok || err != nil || d != "" {
			t.Errorf("SharedFile after save = %v, %v, mismatch (-want +got):\n%s", ok, err, d)
		}
		missing := imgate.SharedFile{ID: renamed.ID + 1000, Name: "x"}
		wantCode(t, "SaveSharedFile(unknown)", tx.SaveSharedFile(missing), imgate.CodeFileNotFound)
		return nil
	})
	got, err := st.SharedFiles(t.Context(), "app", g.ID)
	if d := diff([]imgate.SharedFile{added[0], added[1]}, got); err != nil || d != "" {
		t.Errorf("SharedFiles = %v, mismatch (-want +got):\n%s", err, d)
	}
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		if err := tx.DeleteSharedFile(added[0].ID); err != nil {
			return err
		}
		wantCode(t, "DeleteSharedFile(again)", tx.DeleteSharedFile(added[0].ID), imgate.CodeFileNotFound)
		if _, ok, err := tx.SharedFile(added[0].ID); ok || err != nil {
			t.Errorf("SharedFile(deleted) = %v, %v; want none", ok, err)
		}
		return nil
	})
	got, err = st.SharedFiles(t.Context(), "app", g.ID)
	if d := diff([]imgate.SharedFile{added[1]}, got); err != nil || d != "" {
		t.Errorf("SharedFiles after delete = %v, mismatch (-want +got):\n%s", err, d)
	}
}
