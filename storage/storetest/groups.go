package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/imgate/imgate"
)

func (s suite) testCreateGroup(t *testing.T) {
	s.run(t, "create and get every field", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		owner := mustUser(t, st, newUser("app", "alice")).ID
		want := fullGroup("app", owner)
		got := mustGroup(t, st, want, owner)
		if got.ID <= 0 || got.ID == owner {
			t.Fatalf("CreateGroup assigned id %d, want a fresh positive one", got.ID)
		}
		want.ID, want.Count = got.ID, 1
		if d := diff(want, got); d != "" {
			t.Errorf("CreateGroup result mismatch (-want +got):\n%s", d)
		}
		if d := diff(want, mustGroupRead(t, st, "app", got.ID)); d != "" {
			t.Errorf("Group mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "ids come from the users' sequence", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		seen := map[int64]string{}
		for i := range 4 {
			u := mustUser(t, st, newUser("app", fmt.Sprintf("u%d", i)))
			g := mustGroup(t, st, newGroup("app", u.ID, "g"))
			for id, what := range map[int64]string{u.ID: "user", g.ID: "group"} {
				if prev, ok := seen[id]; ok {
					t.Errorf("%s %d has the id of a %s", what, id, prev)
				}
				seen[id] = what
			}
		}
	})
	s.run(t, "unknown app", func(t *testing.T, st imgate.Store) {
		_, err := st.CreateGroup(t.Context(), newGroup("nope", 1, "g"), func(imgate.GroupTx) error { return nil })
		wantCode(t, "CreateGroup(unknown app)", err, imgate.CodeUnknownApp)
	})
	s.run(t, "fn error rolls back", testCreateGroupRollback)
	s.run(t, "unknown group", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		_, err := st.Group(t.Context(), "app", 42)
		wantCode(t, "Group(unknown)", err, imgate.CodeGroupNotFound)
		err = st.UpdateGroup(t.Context(), "app", 42, func(imgate.GroupTx) error {
			t.Error("fn called for an unknown group")
			return nil
		})
		wantCode(t, "UpdateGroup(unknown)", err, imgate.CodeGroupNotFound)
	})
}

func testCreateGroupRollback(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	owner := mustUser(t, st, newUser("app", "alice")).ID
	var id int64
	_, err := st.CreateGroup(t.Context(), newGroup("app", owner, "g"), func(tx imgate.GroupTx) error {
		id = tx.Group().ID
		if err := addMembers(tx, owner); err != nil {
			return err
		}
		if err := tx.Notify(notice("app", owner, "created")); err != nil {
			return err
		}
		return errBoom
	})
	if err != errBoom {
		t.Errorf("CreateGroup(fn fails) = %v, want fn's error as is", err)
	}
	_, err = st.Group(t.Context(), "app", id)
	wantCode(t, "Group(rolled back)", err, imgate.CodeGroupNotFound)
	ids, err := st.UserGroups(t.Context(), "app", owner)
	wantNonNil(t, "UserGroups after rollback", ids, err)
	ns, err := st.Notices(t.Context(), "app", owner, 0, 10)
	wantNonNil(t, "Notices after rollback", ns, err)
}

func (s suite) testGroupTx(t *testing.T) {
	s.run(t, "members, count and seq", testGroupMembersTx)
	s.run(t, "save group and member", testGroupSave)
	s.run(t, "fn error rolls back", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		ids := mustUsers(t, st, "app", "u", 2)
		g := mustGroup(t, st, newGroup("app", ids[0], "g"), ids[0])
		err := st.UpdateGroup(t.Context(), "app", g.ID, func(tx imgate.GroupTx) error {
			if err := addMembers(tx, ids[1]); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Errorf("UpdateGroup(fn fails) = %v, want fn's error as is", err)
		}
		if got := mustGroupRead(t, st, "app", g.ID); got.Count != 1 {
			t.Errorf("Count after rollback = %d, want 1", got.Count)
		}
	})
	s.run(t, "capacity holds under concurrency", testGroupCapacity)
}

func testGroupMembersTx(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	mustApp(t, st, "other")
	ids := mustUsers(t, st, "app", "u", 4)
	stranger := mustUser(t, st, newUser("other", "carol")).ID
	owner, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g := mustGroup(t, st, newGroup("app", owner, "g"), owner)
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		if err := addMembers(tx, b, c); err != nil {
			return err
		}
		if n := tx.Group().Count; n != 3 {
			t.Errorf("Count after adding 2 to 1 = %d, want 3", n)
		}
		wantCode(t, "AddMember(a member)", tx.AddMember(imgate.Member{UserID: b}), imgate.CodeAlreadyMember)
		wantCode(t, "AddMember(user of another app)", tx.AddMember(imgate.Member{UserID: stranger}), imgate.CodeUserNotFound)
		wantCode(t, "AddMember(no user)", tx.AddMember(imgate.Member{UserID: d + 1000}), imgate.CodeUserNotFound)
		wantCode(t, "AddMember(of another group)", tx.AddMember(imgate.Member{GroupID: g.ID + 1, UserID: d}), imgate.CodeStore)
		// The refused adds leave the transaction usable.
		if err := addMembers(tx, d); err != nil {
			return err
		}
		if err := tx.RemoveMember(c); err != nil {
			return err
		}
		if err := tx.RemoveMember(c); err != nil {
			t.Errorf("RemoveMember(a non-member) = %v, want nil", err)
		}
		if n := tx.Group().Count; n != 3 {
			t.Errorf("Count after adding d and removing c = %d, want 3", n)
		}
		m, ok, err := tx.Member(d)
		if err != nil || !ok || m.UserID != d || m.GroupID != g.ID {
			t.Errorf("Member(d) in tx = %+v, %v, %v; want d's membership", m, ok, err)
		}
		if _, ok, err := tx.Member(c); ok || err != nil {
			t.Errorf("Member(removed) in tx = %v, %v; want none", ok, err)
		}
		got, err := tx.MemberIDs()
		wantIDs(t, "MemberIDs in tx", got, err, owner, b, d)
		return nil
	})
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		return addMembers(tx, c)
	})
	if got := mustGroupRead(t, st, "app", g.ID); got.Count != 4 {
		t.Errorf("Count = %d, want 4", got.Count)
	}
	all, err := st.Members(t.Context(), "app", g.ID, imgate.AllMembers, 0, 10)
	wantIDs(t, "Members by seq", memberIDs(all), err, owner, b, d, c)
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Errorf("member %d has Seq %d after Seq %d, want increasing", all[i].UserID, all[i].Seq, all[i-1].Seq)
		}
	}
	if len(all) > 0 && (all[0].Seq < 1 || all[0].Role != imgate.RoleOwner) {
		t.Errorf("owner's membership = %+v, want Seq >= 1 and the owner's role", all[0])
	}
}

func testGroupSave(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	g := mustGroup(t, st, newGroup("app", ids[0], "g"), ids[0], ids[1])
	want := fullGroup("app", ids[1])
	want.ID, want.Count, want.CreatedAt = g.ID, 2, g.CreatedAt
	member := imgate.Member{
		GroupID: g.ID, UserID: ids[1], Role: imgate.RoleAdmin, DisplayName: "B",
		BanExpire: -1, MuteMode: 2, PushMode: 4,
	}
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		changed := want
		changed.Count = 99
		if err := tx.SaveGroup(changed); err != nil {
			return err
		}
		if d := diff(want, tx.Group()); d != "" {
			t.Errorf("Group() after SaveGroup mismatch (-want +got):\n%s", d)
		}
		rekeyed := want
		rekeyed.ID++
		wantCode(t, "SaveGroup(other id)", tx.SaveGroup(rekeyed), imgate.CodeStore)
		old, _, err := tx.Member(ids[1])
		if err != nil {
			return err
		}
		member.Seq, member.JoinedAt = old.Seq, old.JoinedAt
		saved := member
		saved.Seq, saved.JoinedAt = 77, at(77)
		if err := tx.SaveMember(saved); err != nil {
			return err
		}
		wantCode(t, "SaveMember(non-member)", tx.SaveMember(imgate.Member{UserID: ids[2]}), imgate.CodeNotGroupMember)
		return nil
	})
	if d := diff(want, mustGroupRead(t, st, "app", g.ID)); d != "" {
		t.Errorf("Group after SaveGroup mismatch (-want +got):\n%s", d)
	}
	got, ok, err := st.Member(t.Context(), "app", g.ID, ids[1])
	if d := diff(member, got); err != nil || !ok || d != "" {
		t.Errorf("Member after SaveMember = %v, %v, mismatch (-want +got):\n%s", ok, err, d)
	}
}

// testGroupCapacity adds members from many goroutines to a group that
// has room for few: the group's lock makes the capacity check and the add
// one step, so the group never overflows.
func testGroupCapacity(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	const capacity, n = 10, 30
	ids := mustUsers(t, st, "app", "u", n+1)
	g := newGroup("app", ids[0], "g")
	g.Capacity = capacity
	g = mustGroup(t, st, g)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = st.UpdateGroup(t.Context(), "app", g.ID, func(tx imgate.GroupTx) error {
				if grp := tx.Group(); grp.Count >= grp.Capacity {
					return imgate.Errorf(imgate.CodeGroupFull, "group %d is full", grp.ID)
				}
				return tx.AddMember(imgate.Member{UserID: ids[i+1], JoinedAt: at(int64(i))})
			})
		})
	}
	wg.Wait()
	full := 0
	for i, err := range errs {
		switch imgate.ErrorCode(err) {
		case imgate.CodeOK:
		case imgate.CodeGroupFull:
			full++
		default:
			t.Errorf("goroutine %d: UpdateGroup = %v", i, err)
		}
	}
	if full != n-capacity {
		t.Errorf("%d adds were refused as full, want %d", full, n-capacity)
	}
	if got := mustGroupRead(t, st, "app", g.ID); got.Count != capacity {
		t.Errorf("Count = %d, want %d", got.Count, capacity)
	}
	all, err := st.Members(t.Context(), "app", g.ID, imgate.AllMembers, 0, 100)
	if err != nil || len(all) != capacity {
		t.Errorf("Members = %d members, %v; want %d", len(all), err, capacity)
	}
}
