package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/imgate/imgate"
)

func (s suite) testSecret(t *testing.T) {
	s.run(t, "keeps the first", func(t *testing.T, st imgate.Store) {
		first, second := []byte("first-secret"), []byte("second-secret")
		for i, fresh := range [][]byte{first, second} {
			got, err := st.Secret(t.Context(), fresh)
			if err != nil || !bytes.Equal(got, first) {
				t.Errorf("call %d: Secret(%q) = %q, %v; want %q, nil", i, fresh, got, err, first)
			}
		}
	})
	s.run(t, "race", func(t *testing.T, st imgate.Store) {
		const n = 8
		got := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = st.Secret(t.Context(), fmt.Appendf(nil, "secret-%d", i)) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("goroutine %d: Secret = %v", i, errs[i])
			}
			if !bytes.Equal(got[i], got[0]) {
				t.Errorf("goroutine %d got %q, goroutine 0 got %q; want one secret", i, got[i], got[0])
			}
		}
	})
}

func (s suite) testApps(t *testing.T) {
	s.run(t, "create and get", func(t *testing.T, st imgate.Store) {
		want := imgate.App{ID: "abcdefghijkl", Name: "Chat", Status: imgate.AppFrozen, CreatedAt: at(5),
			Limits: imgate.AppLimits{GroupCapacity: 50, GroupsPerApp: 7, GroupsOwnedPerUser: 3, GroupsJoinedPerUser: 9, KicksBeforeBar: 2}}
		if err := st.CreateApp(t.Context(), want); err != nil {
			t.Fatalf("CreateApp = %v", err)
		}
		got, err := st.App(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("App = %v", err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("App mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "taken id", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		err := st.CreateApp(t.Context(), imgate.App{ID: "app", Name: "other", CreatedAt: at(9)})
		wantCode(t, "CreateApp(taken id)", err, imgate.CodeInvalidParameter)
		got, err := st.App(t.Context(), "app")
		if err != nil || got.Name != "app app" {
			t.Errorf("App after refused create = %+v, %v; want the first app", got, err)
		}
	})
	s.run(t, "unknown", func(t *testing.T, st imgate.Store) {
		_, err := st.App(t.Context(), "nope")
		wantCode(t, "App(unknown)", err, imgate.CodeUnknownApp)
	})
	s.run(t, "list oldest first", func(t *testing.T, st imgate.Store) {
		got, err := st.Apps(t.Context())
		if err != nil || len(got) != 0 {
			t.Fatalf("Apps() of an empty store = %v, %v; want none", got, err)
		}
		var want []imgate.App
		for i, ms := range []int64{30, 10, 20} {
			app := imgate.App{ID: fmt.Sprintf("app%d", i), Name: "n", CreatedAt: at(ms), Limits: imgate.AppLimits{GroupCapacity: i}}
			if err := st.CreateApp(t.Context(), app); err != nil {
				t.Fatalf("CreateApp = %v", err)
			}
			want = append(want, app)
		}
		want = []imgate.App{want[1], want[2], want[0]}
		got, err = st.Apps(t.Context())
		if err != nil {
			t.Fatalf("Apps = %v", err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("Apps mismatch (-want +got):\n%s", d)
		}
	})
}

func (s suite) testTokens(t *testing.T) {
	s.run(t, "create and get", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		for _, want := range []imgate.Token{
			{ID: "u1", AppID: "app", Kind: imgate.TokenUser, UserID: 7, DeviceGUID: "g", CreatedAt: at(1), ExpiresAt: at(100)},
			{ID: "a1", AppID: "app", Kind: imgate.TokenAdmin, CreatedAt: at(2)},
			{ID: "r1", AppID: "app", Kind: imgate.TokenUser, UserID: 7, CreatedAt: at(3), RevokedAt: at(4)},
		} {
			mustToken(t, st, want)
			got, err := st.Token(t.Context(), want.ID)
			if err != nil {
				t.Fatalf("Token(%q) = %v", want.ID, err)
			}
			if d := diff(want, got); d != "" {
				t.Errorf("Token(%q) mismatch (-want +got):\n%s", want.ID, d)
			}
		}
	})
	s.run(t, "unknown", func(t *testing.T, st imgate.Store) {
		_, err := st.Token(t.Context(), "nope")
		wantCode(t, "Token(unknown)", err, imgate.CodeInvalidToken)
		err = st.RevokeToken(t.Context(), "nope", at(1))
		wantCode(t, "RevokeToken(unknown)", err, imgate.CodeInvalidToken)
	})
	s.run(t, "revoke", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		mustToken(t, st, imgate.Token{ID: "t", AppID: "app", Kind: imgate.TokenUser, UserID: 1, CreatedAt: at(1)})
		for i := range 2 {
			if err := st.RevokeToken(t.Context(), "t", at(int64(10+i))); err != nil {
				t.Fatalf("RevokeToken, time %d = %v, want nil", i+1, err)
			}
			got, err := st.Token(t.Context(), "t")
			if err != nil || !got.Revoked() {
				t.Errorf("Token after revoke %d = %+v, %v; want revoked", i+1, got, err)
			}
		}
	})
	s.run(t, "revoke user tokens", testRevokeUserTokens)
	s.run(t, "prune", testPruneTokens)
}

func testRevokeUserTokens(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	mustApp(t, st, "other")
	for _, tok := range []imgate.Token{
		{ID: "a", AppID: "app", UserID: 1},
		{ID: "b", AppID: "app", UserID: 1},
		{ID: "c", AppID: "app", UserID: 1},
		{ID: "old", AppID: "app", UserID: 1, RevokedAt: at(1)},
		{ID: "user2", AppID: "app", UserID: 2},
		{ID: "otherapp", AppID: "other", UserID: 1},
	} {
		tok.Kind, tok.CreatedAt = imgate.TokenUser, at(0)
		mustToken(t, st, tok)
	}
	got, err := st.RevokeUserTokens(t.Context(), "app", 1, "b", at(50))
	if err != nil {
		t.Fatalf("RevokeUserTokens(keep b) = %v", err)
	}
	if d := diff([]string{"a", "c"}, got); d != "" {
		t.Errorf("RevokeUserTokens(keep b) ids mismatch (-want +got):\n%s", d)
	}
	for id, want := range map[string]bool{"a": true, "b": false, "c": true, "old": true, "user2": false, "otherapp": false} {
		tok, err := st.Token(t.Context(), id)
		if err != nil || tok.Revoked() != want {
			t.Errorf("Token(%q) = revoked %v, %v; want revoked %v", id, tok.Revoked(), err, want)
		}
	}
	if tok, _ := st.Token(t.Context(), "old"); !tok.RevokedAt.Equal(at(1)) {
		t.Errorf("revoked before: RevokedAt = %v, want %v kept", tok.RevokedAt, at(1))
	}
	got, err = st.RevokeUserTokens(t.Context(), "app", 1, "", at(60))
	if err != nil || len(got) != 1 || got[0] != "b" {
		t.Errorf("RevokeUserTokens(keep none) = %q, %v; want [b]", got, err)
	}
	// Every app's revocations, from the time on, earliest first.
	mustToken(t, st, imgate.Token{ID: "z", AppID: "other", Kind: imgate.TokenUser, UserID: 1, CreatedAt: at(0)})
	if err := st.RevokeToken(t.Context(), "z", at(55)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		since int64
		limit int
		want  []string
	}{
		{0, 10, []string{"old", "a", "c", "z", "b"}},
		{50, 10, []string{"a", "c", "z", "b"}},
		{51, 10, []string{"z", "b"}},
		{50, 3, []string{"a", "c", "z"}},
		{61, 10, []string{}},
	} {
		got, err := st.RevokedTokens(t.Context(), at(c.since), c.limit)
		if err != nil {
			t.Fatalf("RevokedTokens(%d, %d) = %v", c.since, c.limit, err)
		}
		if d := diff(c.want, got); d != "" {
			t.Errorf("RevokedTokens(%d, %d) mismatch (-want +got):\n%s", c.since, c.limit, d)
		}
	}
}

func testPruneTokens(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	for id, exp := range map[string]int64{"expired": 99, "now": 100, "later": 101, "never": 0} {
		tok := imgate.Token{ID: id, AppID: "app", Kind: imgate.TokenUser, UserID: 1, CreatedAt: at(0)}
		if exp != 0 {
			tok.ExpiresAt = at(exp)
		}
		mustToken(t, st, tok)
	}
	n, err := st.PruneTokens(t.Context(), at(100))
	if err != nil || n != 1 {
		t.Errorf("PruneTokens = %d, %v; want 1, nil", n, err)
	}
	_, err = st.Token(t.Context(), "expired")
	wantCode(t, "Token(pruned)", err, imgate.CodeInvalidToken)
	for _, id := range []string{"now", "later", "never"} {
		if _, err := st.Token(t.Context(), id); err != nil {
			t.Errorf("Token(%q) after prune = %v, want kept", id, err)
		}
	}
}
