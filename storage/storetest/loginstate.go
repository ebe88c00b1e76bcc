package storetest

import (
	"testing"
	"time"

	"github.com/imgate/imgate"
)

func (s suite) testLoginState(t *testing.T) {
	s.run(t, "reads what a login needs", testLoginStateFull)
	s.run(t, "new user", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		got, err := st.LoginState(t.Context(), imgate.LoginQuery{App: "app", User: uid, SN: 7, Convs: true})
		if err != nil {
			t.Fatalf("LoginState = %v", err)
		}
		want := imgate.LoginState{Status: imgate.UserNormal, PasswordHash: "hash-alice"}
		if d := diff(want, got); d != "" {
			t.Errorf("LoginState(no device, groups, messages or notices) mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "disabled user", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		if err := st.SetUserStatus(t.Context(), "app", []int64{uid}, imgate.UserDisabled); err != nil {
			t.Fatal(err)
		}
		if got, err := st.LoginState(t.Context(), imgate.LoginQuery{App: "app", User: uid}); err != nil || got.Status != imgate.UserDisabled {
			t.Errorf("LoginState(disabled) = %+v, %v; want status disabled", got, err)
		}
	})
	s.run(t, "token", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		at := time.UnixMilli(time.Now().UnixMilli())
		tok := imgate.Token{ID: "tok-1", AppID: "app", Kind: imgate.TokenUser, UserID: uid, DeviceGUID: "g", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		if err := st.CreateToken(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeToken(t.Context(), tok.ID, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		tok.RevokedAt = at.Add(time.Minute)
		got, err := st.LoginState(t.Context(), imgate.LoginQuery{App: "app", User: uid, Token: tok.ID})
		if err != nil {
			t.Fatalf("LoginState(token) = %v", err)
		}
		if d := diff(tok, got.Token); d != "" {
			t.Errorf("LoginState(token).Token mismatch (-want +got):\n%s", d)
		}
		for _, id := range []string{"no-such-token", ""} {
			got, err = st.LoginState(t.Context(), imgate.LoginQuery{App: "app", User: uid, Token: id})
			if err != nil || got.Token != (imgate.Token{}) || got.Status != imgate.UserNormal {
				t.Errorf("LoginState(token %q) = %+v, %v; want the user and no token", id, got, err)
			}
		}
	})
	s.run(t, "unknown user", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		_, err := st.LoginState(t.Context(), imgate.LoginQuery{App: "app", User: uid + 1000, SN: 1, Convs: true})
		wantCode(t, "LoginState(unknown user)", err, imgate.CodeUserNotFound)
		_, err = st.LoginState(t.Context(), imgate.LoginQuery{App: "other", User: uid, SN: 1})
		wantCode(t, "LoginState(another app)", err, imgate.CodeUserNotFound)
	})
}

// testLoginStateFull checks that LoginState agrees with the reads it
// replaces: User, Device, UserGroups, Conversations and Notices.
func testLoginStateFull(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	me, b, c := ids[0], ids[1], ids[2]
	d := mustDevice(t, st, login(me, 0, "g1", 1))
	mustDevice(t, st, login(me, 0, "g2", 2))
	g := mustGroup(t, st, newGroup("app", b, "g"), b, me).ID
	h := mustGroup(t, st, newGroup("app", c, "h"), c, me).ID
	mustGroup(t, st, newGroup("app", c, "not mine"), c)
	chats(t, st, b, me, "b", 2)
	chats(t, st, me, c, "c", 1)
	groupMsgs(t, st, b, g, "g", 3)
	notifyUser(t, st, b, me, 2)
	user, err := st.User(t.Context(), "app", me)
	if err != nil {
		t.Fatal(err)
	}
	convs, err := st.Conversations(t.Context(), "app", me)
	if err != nil || len(convs) != 3 {
		t.Fatalf("Conversations = %v, %v", convs, err)
	}
	notices, err := st.Notices(t.Context(), "app", me, 0, 100)
	if err != nil || len(notices) == 0 {
		t.Fatalf("Notices = %v, %v", notices, err)
	}
	want := imgate.LoginState{
		Status: user.Status, PasswordHash: user.PasswordHash, Device: d,
		Groups: []int64{min(g, h), max(g, h)}, Convs: convs, LastNotice: notices[len(notices)-1].Seq,
	}
	got, err := st.LoginState(t.Context(), imgate.LoginQuery{App: "app", User: me, SN: d.SN, Convs: true})
	if err != nil {
		t.Fatalf("LoginState = %v", err)
	}
	if diffs := diff(want, got); diffs != "" {
		t.Errorf("LoginState mismatch (-want +got):\n%s", diffs)
	}
	want.Convs = nil
	got, err = st.LoginState(t.Context(), imgate.LoginQuery{App: "app", User: me, SN: d.SN})
	if err != nil {
		t.Fatalf("LoginState(without convs) = %v", err)
	}
	if diffs := diff(want, got); diffs != "" {
		t.Errorf("LoginState(without convs) mismatch (-want +got):\n%s", diffs)
	}
}
