package storetest

import (
	"testing"
	"time"

	"github.com/imgate/imgate"
)

func (s suite) testGroupReads(t *testing.T) {
	s.run(t, "members by filter and page", testMembers)
	s.run(t, "members of listed users", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		ids := mustUsers(t, st, "app", "u", 4)
		g := mustGroup(t, st, newGroup("app", ids[0], "g"), ids[0], ids[1], ids[2])
		got, err := st.MembersOf(t.Context(), "app", g.ID, []int64{ids[2], ids[3], ids[0], ids[2]})
		wantIDs(t, "MembersOf", memberIDs(got), err, ids[2], ids[0])
		got, err = st.MembersOf(t.Context(), "app", g.ID, nil)
		wantNonNil(t, "MembersOf(none)", got, err)
		m, ok, err := st.Member(t.Context(), "app", g.ID, ids[1])
		if err != nil || !ok || m.UserID != ids[1] || m.GroupID != g.ID || m.Role != imgate.RoleMember {
			t.Errorf("Member = %+v, %v, %v; want the membership", m, ok, err)
		}
		if _, ok, err := st.Member(t.Context(), "app", g.ID, ids[3]); ok || err != nil {
			t.Errorf("Member(non-member) = %v, %v; want none", ok, err)
		}
	})
	s.run(t, "groups of a user, public groups, groups by id", testGroupLists)
	s.run(t, "counts", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		mustApp(t, st, "other")
		ids := mustUsers(t, st, "app", "u", 2)
		mustGroup(t, st, newGroup("app", ids[0], "g1"), ids[0], ids[1])
		mustGroup(t, st, newGroup("app", ids[0], "g2"), ids[0])
		mustGroup(t, st, newGroup("app", ids[1], "g3"), ids[1])
		mustGroup(t, st, newGroup("app", ids[1], "g4"), ids[1], ids[0])
		mustGroup(t, st, newGroup("other", 0, "elsewhere"))
		for _, tt := range []struct {
			user               int64
			app, owned, joined int
		}{
			{ids[0], 4, 2, 3},
			{ids[1], 4, 2, 3},
			{ids[1] + 1000, 4, 0, 0},
		} {
			app, owned, joined, err := st.GroupCounts(t.Context(), "app", tt.user)
			if err != nil || app != tt.app || owned != tt.owned || joined != tt.joined {
				t.Errorf("GroupCounts(%d) = %d, %d, %d, %v; want %d, %d, %d", tt.user, app, owned, joined, err, tt.app, tt.owned, tt.joined)
			}
		}
	})
}

func testMembers(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 7)
	now := time.Now().UnixMilli()
	g := mustGroup(t, st, newGroup("app", ids[0], "g"), ids...)
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		for i, edit := range map[int]func(*imgate.Member){
			1: func(m *imgate.Member) { m.Role = imgate.RoleAdmin },
			2: func(m *imgate.Member) { m.BanExpire = -1 },
			3: func(m *imgate.Member) { m.BanExpire = now + time.Hour.Milliseconds() },
			4: func(m *imgate.Member) { m.BanExpire = now - time.Hour.Milliseconds() },
		} {
			m, _, err := tx.Member(ids[i])
			if err != nil {
				return err
			}
			edit(&m)
			if err := tx.SaveMember(m); err != nil {
				return err
			}
		}
		return nil
	})
	all, err := st.Members(t.Context(), "app", g.ID, imgate.AllMembers, 0, 100)
	if err != nil || len(all) != len(ids) {
		t.Fatalf("Members(all) = %d members, %v; want %d", len(all), err, len(ids))
	}
	seq := func(i int) int64 { return all[i].Seq }
	for _, tt := range []struct {
		name   string
		filter imgate.MemberFilter
		after  int64
		limit  int
		want   []int64
	}{
		{"page 1", imgate.AllMembers, 0, 3, ids[0:3]},
		{"page 2", imgate.AllMembers, seq(2), 3, ids[3:6]},
		{"page 3", imgate.AllMembers, seq(5), 3, ids[6:7]},
		{"past the end", imgate.AllMembers, seq(6), 3, []int64{}},
		{"admins", imgate.AdminMembers, 0, 10, ids[0:2]},
		{"admins after the owner", imgate.AdminMembers, seq(0), 10, ids[1:2]},
		{"banned", imgate.BannedMembers, 0, 10, ids[2:4]},
		{"banned page 2", imgate.BannedMembers, seq(2), 10, ids[3:4]},
	} {
		got, err := st.Members(t.Context(), "app", g.ID, tt.filter, tt.after, tt.limit)
		wantIDs(t, "Members("+tt.name+")", memberIDs(got), err, tt.want...)
	}
	got, err := st.Members(t.Context(), "app", g.ID, imgate.AllMembers, 0, 0)
	wantNonNil(t, "Members(limit 0)", got, err)
	_, err = st.Members(t.Context(), "app", g.ID, imgate.MemberFilter(99), 0, 10)
	wantCode(t, "Members(unknown filter)", err, imgate.CodeInvalidParameter)
}

func testGroupLists(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	public := func(name string) imgate.Group {
		g := newGroup("app", ids[0], name)
		g.Type = imgate.GroupPublic
		return g
	}
	g1 := mustGroup(t, st, public("g1"), ids[0], ids[1])
	g2 := mustGroup(t, st, newGroup("app", ids[0], "g2"), ids[0])
	g3 := mustGroup(t, st, public("g3"), ids[0], ids[1])
	chatroom := newGroup("app", ids[0], "room")
	chatroom.Type = imgate.GroupChatroom
	mustGroup(t, st, chatroom)
	got, err := st.UserGroups(t.Context(), "app", ids[1])
	wantIDs(t, "UserGroups", got, err, g1.ID, g3.ID)
	got, err = st.UserGroups(t.Context(), "app", ids[2])
	wantNonNil(t, "UserGroups(of no group)", got, err)
	got, err = st.PublicGroups(t.Context(), "app")
	wantIDs(t, "PublicGroups", got, err, g1.ID, g3.ID)
	groups, err := st.Groups(t.Context(), "app", []int64{g3.ID, ids[0], g1.ID, g3.ID, g2.ID})
	if err != nil {
		t.Fatalf("Groups = %v", err)
	}
	if d := diff([]imgate.Group{g3, g1, g2}, groups); d != "" {
		t.Errorf("Groups mismatch (-want +got):\n%s", d)
	}
	groups, err = st.Groups(t.Context(), "app", nil)
	if err != nil || len(groups) != 0 {
		t.Errorf("Groups(none) = %v, %v; want none", groups, err)
	}
}
