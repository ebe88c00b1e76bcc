package storetest

import (
	"strconv"
	"sync"
	"testing"

	"github.com/imgate/imgate"
)

func (s suite) testRoster(t *testing.T) {
	s.run(t, "put and read", testRosterPut)
	s.run(t, "unknown users", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		mustApp(t, st, "other")
		alice := mustUser(t, st, newUser("app", "alice")).ID
		carol := mustUser(t, st, newUser("other", "carol")).ID
		for _, pair := range [][2]int64{{alice, alice + 1000}, {alice + 1000, alice}, {alice, carol}, {carol, alice}} {
			err := st.Roster(t.Context(), "app", pair[0], pair[1], func(imgate.RosterTx) error {
				t.Errorf("fn called for users %v", pair)
				return nil
			})
			wantCode(t, "Roster("+strconv.FormatInt(pair[0], 10)+", "+strconv.FormatInt(pair[1], 10)+")", err, imgate.CodeUserNotFound)
		}
	})
	s.run(t, "fn error rolls back", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		ids := mustUsers(t, st, "app", "u", 2)
		err := st.Roster(t.Context(), "app", ids[0], ids[1], func(tx imgate.RosterTx) error {
			if err := tx.PutItem(imgate.RosterItem{OwnerID: ids[0], UserID: ids[1], Friend: true}); err != nil {
				return err
			}
			if err := tx.PutApplication(imgate.RosterApplication{ApplicantID: ids[0], TargetID: ids[1]}); err != nil {
				return err
			}
			if err := tx.Notify(notice("app", ids[1], "hi")); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Errorf("Roster(fn fails) = %v, want fn's error as is", err)
		}
		if it, err := st.RosterItem(t.Context(), "app", ids[0], ids[1]); err != nil || it.Friend {
			t.Errorf("RosterItem after rollback = %+v, %v; want no friendship", it, err)
		}
		got, err := st.RosterApplications(t.Context(), "app", ids[1], imgate.RosterApplicationPos{}, 10)
		wantNonNil(t, "RosterApplications after rollback", got, err)
		ns, err := st.Notices(t.Context(), "app", ids[1], 0, 10)
		wantNonNil(t, "Notices after rollback", ns, err)
	})
	s.run(t, "writes only the locked pair", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		ids := mustUsers(t, st, "app", "u", 3)
		mustRoster(t, st, "app", ids[0], ids[1], func(tx imgate.RosterTx) error {
			err := tx.PutItem(imgate.RosterItem{OwnerID: ids[0], UserID: ids[2], Friend: true})
			wantCode(t, "PutItem(outside the pair)", err, imgate.CodeStore)
			err = tx.PutItem(imgate.RosterItem{AppID: "other", OwnerID: ids[0], UserID: ids[1]})
			wantCode(t, "PutItem(of another app)", err, imgate.CodeStore)
			err = tx.PutApplication(imgate.RosterApplication{ApplicantID: ids[2], TargetID: ids[0]})
			wantCode(t, "PutApplication(outside the pair)", err, imgate.CodeStore)
			return nil
		})
	})
	s.run(t, "one user with itself", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		id := mustUser(t, st, newUser("app", "alice")).ID
		mustRoster(t, st, "app", id, id, func(tx imgate.RosterTx) error {
			return tx.Notify(notice("app", id, "self"))
		})
	})
	s.run(t, "the pair serialises", testRosterSerialises)
}

func testRosterPut(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b := ids[0], ids[1]
	item := imgate.RosterItem{
		AppID: "app", OwnerID: a, UserID: b, Friend: true, WasFriend: true, Blocked: true,
		Alias: "bobby", Ext: "x", Muted: true, CreatedAt: at(1), UpdatedAt: at(2),
	}
	app := imgate.RosterApplication{
		AppID: "app", ApplicantID: b, TargetID: a, Alias: "al", Reason: "hi",
		Status: imgate.ApplicationDeclined, ExpiresAt: at(9), CreatedAt: at(3), UpdatedAt: at(4),
	}
	mustRoster(t, st, "app", b, a, func(tx imgate.RosterTx) error {
		zero, err := tx.Item(a, b)
		if d := diff(imgate.RosterItem{AppID: "app", OwnerID: a, UserID: b}, zero); err != nil || d != "" {
			t.Errorf("Item(none) = %v, mismatch (-want +got):\n%s", err, d)
		}
		if _, ok, err := tx.Application(b, a); ok || err != nil {
			t.Errorf("Application(none) = %v, %v; want none", ok, err)
		}
		if err := tx.PutItem(imgate.RosterItem{OwnerID: a, UserID: b, Alias: "replaced"}); err != nil {
			return err
		}
		if err := tx.PutItem(item); err != nil {
			return err
		}
		if err := tx.PutApplication(imgate.RosterApplication{ApplicantID: b, TargetID: a, Reason: "replaced"}); err != nil {
			return err
		}
		if err := tx.PutApplication(app); err != nil {
			return err
		}
		got, err := tx.Item(a, b)
		if d := diff(item, got); err != nil || d != "" {
			t.Errorf("Item in tx = %v, mismatch (-want +got):\n%s", err, d)
		}
		gotApp, ok, err := tx.Application(b, a)
		if d := diff(app, gotApp); !ok || err != nil || d != "" {
			t.Errorf("Application in tx = %v, %v, mismatch (-want +got):\n%s", ok, err, d)
		}
		return nil
	})
	got, err := st.RosterItem(t.Context(), "app", a, b)
	if d := diff(item, got); err != nil || d != "" {
		t.Errorf("RosterItem = %v, mismatch (-want +got):\n%s", err, d)
	}
	got, err = st.RosterItem(t.Context(), "app", b, a)
	if err != nil || got.OwnerID != b || got.UserID != a || got.Relation() != imgate.RelationStranger {
		t.Errorf("RosterItem(none) = %+v, %v; want a stranger with the ids", got, err)
	}
	apps, err := st.RosterApplications(t.Context(), "app", a, imgate.RosterApplicationPos{}, 10)
	if d := diff([]imgate.RosterApplication{app}, apps); err != nil || d != "" {
		t.Errorf("RosterApplications = %v, mismatch (-want +got):\n%s", err, d)
	}
}

// testRosterSerialises runs read-modify-writes of one item from many
// goroutines, half naming the pair one way round and half the other: the
// pair's locks make them take turns, so no increment is lost.
func testRosterSerialises(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 2)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		a, b := ids[0], ids[1]
		if i%2 == 1 {
			a, b = b, a
		}
		wg.Go(func() {
			err := st.Roster(t.Context(), "app", a, b, func(tx imgate.RosterTx) error {
				it, err := tx.Item(ids[0], ids[1])
				if err != nil {
					return err
				}
				v, _ := strconv.Atoi(it.Alias)
				it.Alias = strconv.Itoa(v + 1)
				return tx.PutItem(it)
			})
			if err != nil {
				t.Errorf("goroutine %d: Roster = %v", i, err)
			}
		})
	}
	wg.Wait()
	it, err := st.RosterItem(t.Context(), "app", ids[0], ids[1])
	if err != nil || it.Alias != strconv.Itoa(n) {
		t.Errorf("counter after %d increments = %q, %v; want %d", n, it.Alias, err, n)
	}
}

func (s suite) testRosterLists(t *testing.T) {
	s.run(t, "items by filter and page", testRosterItems)
	s.run(t, "applications newest first", testRosterApplications)
}

func testRosterItems(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 7)
	owner, u := ids[0], ids[1:]
	items := []imgate.RosterItem{
		{UserID: u[0], Friend: true}, {UserID: u[1], Friend: true}, {UserID: u[2], Blocked: true},
		{UserID: u[3], Friend: true, Blocked: true}, {UserID: u[4], Friend: true}, {UserID: u[5], WasFriend: true},
	}
	for _, it := range items {
		it.OwnerID = owner
		mustRoster(t, st, "app", owner, it.UserID, func(tx imgate.RosterTx) error {
			if err := tx.PutItem(it); err != nil {
				return err
			}
			// The other side's item must not show in owner's lists.
			return tx.PutItem(imgate.RosterItem{OwnerID: it.UserID, UserID: owner, Friend: true, Blocked: true})
		})
	}
	list := func(filter imgate.RosterFilter, after int64, limit int) []int64 {
		got, err := st.RosterItems(t.Context(), "app", owner, filter, after, limit)
		if err != nil {
			t.Fatalf("RosterItems(%d, %d, %d) = %v", filter, after, limit, err)
		}
		ids := make([]int64, len(got))
		for i, it := range got {
			ids[i] = it.UserID
			if it.OwnerID != owner {
				t.Errorf("RosterItems listed an item of owner %d", it.OwnerID)
			}
		}
		return ids
	}
	for _, tt := range []struct {
		name   string
		filter imgate.RosterFilter
		after  int64
		limit  int
		want   []int64
	}{
		{"friends", imgate.FriendsOnly, 0, 10, []int64{u[0], u[1], u[3], u[4]}},
		{"friends page 1", imgate.FriendsOnly, 0, 2, []int64{u[0], u[1]}},
		{"friends page 2", imgate.FriendsOnly, u[1], 2, []int64{u[3], u[4]}},
		{"friends page 3", imgate.FriendsOnly, u[4], 2, []int64{}},
		{"friends after a non-friend", imgate.FriendsOnly, u[2], 10, []int64{u[3], u[4]}},
		{"blocked", imgate.BlockedOnly, 0, 10, []int64{u[2], u[3]}},
		{"blocked page 2", imgate.BlockedOnly, u[2], 10, []int64{u[3]}},
	} {
		wantIDs(t, "RosterItems("+tt.name+")", list(tt.filter, tt.after, tt.limit), nil, tt.want...)
	}
	got, err := st.RosterItems(t.Context(), "app", owner, imgate.FriendsOnly, 0, 0)
	wantNonNil(t, "RosterItems(limit 0)", got, err)
	got, err = st.RosterItems(t.Context(), "app", owner+1000, imgate.FriendsOnly, 0, 10)
	wantNonNil(t, "RosterItems(no items)", got, err)
	_, err = st.RosterItems(t.Context(), "app", owner, imgate.RosterFilter(99), 0, 10)
	wantCode(t, "RosterItems(unknown filter)", err, imgate.CodeInvalidParameter)
}

func testRosterApplications(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 5)
	target, u := ids[0], ids[1:]
	created := []int64{10, 30, 20, 30}
	for i, applicant := range u {
		mustRoster(t, st, "app", applicant, target, func(tx imgate.RosterTx) error {
			if err := tx.PutApplication(imgate.RosterApplication{ApplicantID: applicant, TargetID: target, Reason: "first", CreatedAt: at(created[i])}); err != nil {
				return err
			}
			// Replaces the first; and target's own application elsewhere
			// is no application to target.
			err := tx.PutApplication(imgate.RosterApplication{ApplicantID: applicant, TargetID: target, Reason: "second", CreatedAt: at(created[i])})
			if err != nil {
				return err
			}
			return tx.PutApplication(imgate.RosterApplication{ApplicantID: target, TargetID: applicant, CreatedAt: at(99)})
		})
	}
	// page lists from after; it returns the ids and the last position.
	page := func(after imgate.RosterApplicationPos, limit int) ([]int64, imgate.RosterApplicationPos) {
		got, err := st.RosterApplications(t.Context(), "app", target, after, limit)
		if err != nil {
			t.Fatalf("RosterApplications(%v, %d) = %v", after, limit, err)
		}
		ids := make([]int64, len(got))
		for i, a := range got {
			ids[i] = a.ApplicantID
			if a.Reason != "second" || a.TargetID != target {
				t.Errorf("RosterApplications listed %+v, want the replacing application to the target", a)
			}
			after = a.Pos()
		}
		return ids, after
	}
	// Newest first, ties by applicant id descending: u3 (30), u1 (30),
	// u2 (20), u0 (10).
	all, _ := page(imgate.RosterApplicationPos{}, 10)
	wantIDs(t, "RosterApplications(all)", all, nil, u[3], u[1], u[2], u[0])
	first, pos := page(imgate.RosterApplicationPos{}, 2)
	wantIDs(t, "RosterApplications(page 1)", first, nil, u[3], u[1])
	second, pos2 := page(pos, 2)
	wantIDs(t, "RosterApplications(page 2)", second, nil, u[2], u[0])
	tie, _ := page(imgate.RosterApplicationPos{CreatedAt: at(30), ApplicantID: u[3]}, 1)
	wantIDs(t, "RosterApplications(after a tie)", tie, nil, u[1])
	third, _ := page(pos2, 2)
	wantIDs(t, "RosterApplications(page 3)", third, nil)
	// The last application of page 1 replaced by a newer one: page 2
	// still starts where page 1 ended, skipping and repeating nothing.
	mustRoster(t, st, "app", u[1], target, func(tx imgate.RosterTx) error {
		return tx.PutApplication(imgate.RosterApplication{ApplicantID: u[1], TargetID: target, Reason: "second", CreatedAt: at(50)})
	})
	again, _ := page(pos, 2)
	wantIDs(t, "RosterApplications(page 2, the cursor's application replaced since)", again, nil, u[2], u[0])
	got, err := st.RosterApplications(t.Context(), "app", target, imgate.RosterApplicationPos{}, 0)
	wantNonNil(t, "RosterApplications(limit 0)", got, err)
}
