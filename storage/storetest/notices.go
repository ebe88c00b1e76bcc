package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

func (s suite) testNotices(t *testing.T) {
	s.run(t, "seq per recipient", testNoticeSeqs)
	s.run(t, "fn error rolls notices back", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		ids := mustUsers(t, st, "app", "u", 2)
		err := st.Roster(t.Context(), "app", ids[0], ids[1], func(tx imgate.RosterTx) error {
			if err := tx.Notify(notice("app", ids[1], "lost")); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Errorf("Roster(fn fails) = %v, want fn's error as is", err)
		}
		mustRoster(t, st, "app", ids[0], ids[1], func(tx imgate.RosterTx) error {
			return tx.Notify(notice("app", ids[1], "kept"))
		})
		got, err := st.Notices(t.Context(), "app", ids[1], 0, 10)
		if err != nil || len(got) != 1 || got[0].Content != "kept" || got[0].Seq != 1 {
			t.Errorf("Notices = %+v, %v; want only the kept notice, Seq 1", got, err)
		}
	})
	s.run(t, "bad recipients", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		mustApp(t, st, "other")
		ids := mustUsers(t, st, "app", "u", 2)
		stranger := mustUser(t, st, newUser("other", "carol")).ID
		for _, to := range []int64{ids[1] + 1000, stranger} {
			// A notice to someone who is no user of the app is dropped; the
			// change and its other notices stand.
			err := st.Roster(t.Context(), "app", ids[0], ids[1], func(tx imgate.RosterTx) error {
				return tx.Notify(notice("app", ids[1], "a"), notice("app", to, "b"))
			})
			wantCode(t, fmt.Sprintf("Notify(to %d)", to), err, imgate.CodeOK)
			if got, err := st.Notices(t.Context(), "app", to, 0, 10); err != nil || len(got) != 0 {
				t.Errorf("Notices of non-user %d = %+v, %v; want none", to, got, err)
			}
		}
		if got, err := st.Notices(t.Context(), "app", ids[1], 0, 10); err != nil || len(got) != 2 || got[1].Seq != 2 {
			t.Errorf("Notices of the real recipient = %+v, %v; want both, Seq 1 and 2", got, err)
		}
		mustRoster(t, st, "app", ids[0], ids[1], func(tx imgate.RosterTx) error {
			wantCode(t, "Notify(of another app)", tx.Notify(notice("other", stranger, "x")), imgate.CodeStore)
			wantCode(t, "Notify(no recipient)", tx.Notify(notice("app", 0, "x")), imgate.CodeStore)
			return nil
		})
		if got, err := st.Notices(t.Context(), "app", ids[1], 0, 10); err != nil || len(got) != 2 {
			t.Errorf("Notices after refused notices = %+v, %v; want the two stored before", got, err)
		}
	})
	s.run(t, "concurrent writers to one recipient", testNoticeConcurrency)
	s.run(t, "one notice to many", testNoticeFanOut)
}

func testNoticeSeqs(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b := ids[0], ids[1]
	full := imgate.Notice{
		AppID: "app", UserID: a, Kind: imgate.NoticeGroup, Type: imgate.GroupKicked, From: b,
		GroupID: 123, To: []int64{a, b}, Content: "reason", At: at(5),
	}
	mustRoster(t, st, "app", a, b, func(tx imgate.RosterTx) error {
		return tx.Notify(full, notice("", b, "b1"), notice("app", a, "a2"))
	})
	g := mustGroup(t, st, newGroup("app", a, "g"), a, b, ids[2])
	mustUpdateGroup(t, st, "app", g.ID, func(tx imgate.GroupTx) error {
		members, err := tx.MemberIDs()
		if err != nil {
			return err
		}
		return tx.Notify(imgate.Notify(members, imgate.Notice{Kind: imgate.NoticeGroup, Type: imgate.GroupJoined, GroupID: g.ID, Content: "g", At: at(6)})...)
	})
	got, err := st.Notices(t.Context(), "app", a, 0, 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("Notices(a) = %d notices, %v; want 3", len(got), err)
	}
	full.Seq = 1
	if d := diff(full, got[0]); d != "" {
		t.Errorf("first notice of a mismatch (-want +got):\n%s", d)
	}
	if d := diff([]int64{1, 2, 3}, seqs(got)); d != "" || got[1].Content != "a2" || got[2].Content != "g" {
		t.Errorf("notices of a = %+v; want seqs 1, 2, 3 in notify order", got)
	}
	gotB, err := st.Notices(t.Context(), "app", b, 0, 10)
	if err != nil || len(gotB) != 2 || gotB[0].Content != "b1" || gotB[0].Seq != 1 || gotB[0].AppID != "app" || gotB[1].Seq != 2 {
		t.Errorf("Notices(b) = %+v, %v; want b1 at Seq 1 with the app filled in, then the group's at 2", gotB, err)
	}
	page, err := st.Notices(t.Context(), "app", a, 1, 1)
	wantIDs(t, "Notices(after 1, limit 1)", seqs(page), err, 2)
	page, err = st.Notices(t.Context(), "app", a, 3, 10)
	wantNonNil(t, "Notices(after the last)", page, err)
	page, err = st.Notices(t.Context(), "app", a, 0, 0)
	wantNonNil(t, "Notices(limit 0)", page, err)
}

// testNoticeConcurrency notifies one recipient from many transactions at
// once, roster and group ones, while a reader pages through the
// recipient's notices with a cursor. The Seqs must be 1..n with no gap
// or repeat, and the reader, which never looks behind its cursor, must
// still see every notice: no Seq commits after a higher one.
func testNoticeConcurrency(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	const n = 24
	ids := mustUsers(t, st, "app", "u", n+1)
	r, others := ids[0], ids[1:]
	groups := make([]int64, n)
	for i := range n / 2 {
		groups[i] = mustGroup(t, st, newGroup("app", others[i], "g"), others[i], r).ID
	}
	seen := make(chan []int64, 1)
	go func() { seen <- readAll(t, st, r, n) }()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			if i < n/2 {
				err = st.UpdateGroup(t.Context(), "app", groups[i], func(tx imgate.GroupTx) error {
					return tx.Notify(notice("app", r, "group"), notice("app", others[i], "other"))
				})
			} else {
				err = st.Roster(t.Context(), "app", others[i], r, func(tx imgate.RosterTx) error {
					return tx.Notify(notice("app", others[i], "other"), notice("app", r, "roster"))
				})
			}
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	got, err := st.Notices(t.Context(), "app", r, 0, 100)
	wantIDs(t, "Seqs of the recipient", seqs(got), err, want...)
	if d := diff(want, <-seen); d != "" {
		t.Errorf("Seqs the cursor reader saw mismatch (-want +got):\n%s", d)
	}
}

// readAll pages through the user's notices with a cursor until it has n
// or a deadline passes, and returns the Seqs it saw.
func readAll(t *testing.T, st imgate.Store, userID int64, n int) []int64 {
	var got []int64
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		var after int64
		if len(got) > 0 {
			after = got[len(got)-1]
		}
		page, err := st.Notices(t.Context(), "app", userID, after, 5)
		if err != nil {
			t.Errorf("reader: Notices = %v", err)
			return got
		}
		got = append(got, seqs(page)...)
		if len(page) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	return got
}

// testNoticeFanOut notifies every member of a group of the default
// capacity in one call, which the stores write in batches.
func testNoticeFanOut(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	const n = imgate.DefaultGroupCapacity + 1
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				u, err := st.CreateUser(t.Context(), newUser("app", fmt.Sprintf("u%d", i)))
				if err != nil {
					t.Errorf("CreateUser %d = %v", i, err)
				}
				ids[i] = u.ID
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// The first recipient gets two notices, one before and one after all
	// the others, so its Seqs come from one bump of its counter.
	notices := append(imgate.Notify(ids, notice("app", 0, "all")), notice("app", ids[0], "again"))
	mustRoster(t, st, "app", ids[0], ids[1], func(tx imgate.RosterTx) error {
		return tx.Notify(notices...)
	})
	for _, id := range []int64{ids[1], ids[n/2], ids[n-1]} {
		got, err := st.Notices(t.Context(), "app", id, 0, 10)
		if err != nil || len(got) != 1 || got[0].Seq != 1 || got[0].Content != "all" {
			t.Errorf("Notices(%d) = %+v, %v; want the one notice at Seq 1", id, got, err)
		}
	}
	got, err := st.Notices(t.Context(), "app", ids[0], 0, 10)
	if err != nil || !slices.Equal(seqs(got), []int64{1, 2}) || got[1].Content != "again" {
		t.Errorf("Notices(first) = %+v, %v; want seqs 1, 2 in notify order", got, err)
	}
}
