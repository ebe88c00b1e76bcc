package storetest

import (
	"errors"
	"testing"

	"github.com/imgate/imgate"
)

// fullUser is a user of the app with every field set.
func fullUser(appID, username string) imgate.User {
	return imgate.User{
		AppID: appID, Username: username, PasswordHash: "$2a$hash",
		NickName: "Nick", Avatar: "https://a/b.png", Description: "about",
		Email: username + "@example.com", Mobile: "+86-" + username,
		PublicInfo: "pub", PrivateInfo: "priv", Status: imgate.UserDisabled,
		Settings: imgate.UserSettings{
			AuthMode: imgate.AuthQuestion, AuthQuestion: "q?", AuthAnswer: "a",
			AutoDownload: true, GroupConfirm: true, NoPush: true, NoPushDetail: true,
			NoPushStartHour: 22, NoPushEndHour: 7, NoSounds: true, Vibratory: true,
			PushNickName: "pn", SilenceStartTime: 1, SilenceEndTime: 2,
		},
		Push:      imgate.PushProfile{Alias: "alias", Badge: 3, Tags: []string{"x", "y"}},
		Pinned:    []int64{300000001, 300000000},
		CreatedAt: at(10),
		UpdatedAt: at(20),
	}
}

func (s suite) testUsers(t *testing.T) {
	s.run(t, "create and get every field", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		want := fullUser("app", "alice")
		got := mustUser(t, st, want)
		if got.ID <= 0 {
			t.Fatalf("CreateUser assigned id %d, want > 0", got.ID)
		}
		want.ID = got.ID
		if d := diff(want, got); d != "" {
			t.Errorf("CreateUser result mismatch (-want +got):\n%s", d)
		}
		read, err := st.User(t.Context(), "app", got.ID)
		if err != nil {
			t.Fatalf("User = %v", err)
		}
		if d := diff(want, read); d != "" {
			t.Errorf("User mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "unknown", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		u := mustUser(t, st, newUser("app", "alice"))
		_, err := st.User(t.Context(), "app", u.ID+1)
		wantCode(t, "User(unknown id)", err, imgate.CodeUserNotFound)
		_, err = st.UserByName(t.Context(), "app", "bob")
		wantCode(t, "UserByName(unknown)", err, imgate.CodeUserNotFound)
	})
	s.run(t, "taken username, email, mobile", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		mustUser(t, st, fullUser("app", "alice"))
		taken := []struct {
			name string
			edit func(*imgate.User)
			code int
		}{
			{"username", func(u *imgate.User) { u.Username = "alice" }, imgate.CodeUserExists},
			{"email", func(u *imgate.User) { u.Email = "alice@example.com" }, imgate.CodeUserExists},
			{"mobile", func(u *imgate.User) { u.Mobile = "+86-alice" }, imgate.CodeMobileTaken},
		}
		for _, tt := range taken {
			u := fullUser("app", "bob")
			tt.edit(&u)
			_, err := st.CreateUser(t.Context(), u)
			wantCode(t, "CreateUser(taken "+tt.name+")", err, tt.code)
		}
		if _, err := st.UserByName(t.Context(), "app", "bob"); imgate.ErrorCode(err) != imgate.CodeUserNotFound {
			t.Errorf("UserByName(bob) after refused creates = %v, want CodeUserNotFound", err)
		}
	})
	s.run(t, "empty email and mobile are not taken", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		mustUser(t, st, newUser("app", "alice"))
		mustUser(t, st, newUser("app", "bob"))
	})
}

func (s suite) testUserLookup(t *testing.T) {
	s.run(t, "by name", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		want := mustUser(t, st, fullUser("app", "alice"))
		got, err := st.UserByName(t.Context(), "app", "alice")
		if err != nil {
			t.Fatalf("UserByName = %v", err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("UserByName mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "by login", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		alice := newUser("app", "alice")
		alice.Mobile, alice.Email = "111", "alice@x"
		alice = mustUser(t, st, alice)
		// bob's mobile is alice's username, carol's email is bob's mobile:
		// username comes before mobile, mobile before email.
		bob := newUser("app", "bob")
		bob.Mobile = "alice"
		bob = mustUser(t, st, bob)
		carol := newUser("app", "carol")
		carol.Email = "alice"
		carol.Mobile = "222"
		carol = mustUser(t, st, carol)
		dave := newUser("app", "dave")
		dave.Email = "222"
		mustUser(t, st, dave)
		for login, want := range map[string]int64{
			"alice": alice.ID, "111": alice.ID, "alice@x": alice.ID,
			"bob": bob.ID, "222": carol.ID,
		} {
			got, err := st.UserByLogin(t.Context(), "app", login)
			if err != nil || got.ID != want {
				t.Errorf("UserByLogin(%q) = user %d, %v; want user %d", login, got.ID, err, want)
			}
		}
		for _, login := range []string{"", "nobody"} {
			_, err := st.UserByLogin(t.Context(), "app", login)
			wantCode(t, "UserByLogin("+login+")", err, imgate.CodeUserNotFound)
		}
	})
}

func (s suite) testUpdateUser(t *testing.T) {
	s.run(t, "writes fn's changes", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		u := mustUser(t, st, newUser("app", "alice"))
		want := fullUser("app", "alice2")
		want.ID, want.CreatedAt = u.ID, u.CreatedAt
		got, err := st.UpdateUser(t.Context(), "app", u.ID, func(u *imgate.User) error {
			id, created := u.ID, u.CreatedAt
			*u = want
			u.ID, u.CreatedAt = id, created
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateUser = %v", err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("UpdateUser result mismatch (-want +got):\n%s", d)
		}
		read, err := st.User(t.Context(), "app", u.ID)
		if err != nil {
			t.Fatalf("User = %v", err)
		}
		if d := diff(want, read); d != "" {
			t.Errorf("User after update mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "fn error aborts", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		want := mustUser(t, st, newUser("app", "alice"))
		boom := errors.New("boom")
		_, err := st.UpdateUser(t.Context(), "app", want.ID, func(u *imgate.User) error {
			u.NickName = "changed"
			return boom
		})
		if err != boom {
			t.Errorf("UpdateUser(fn fails) = %v, want fn's error as is", err)
		}
		got, err := st.User(t.Context(), "app", want.ID)
		if err != nil {
			t.Fatalf("User = %v", err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("User after aborted update mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "unknown", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		_, err := st.UpdateUser(t.Context(), "app", 42, func(u *imgate.User) error {
			t.Error("fn called for an unknown user")
			return nil
		})
		wantCode(t, "UpdateUser(unknown)", err, imgate.CodeUserNotFound)
	})
	s.run(t, "uniqueness", testUpdateUserUnique)
}

func testUpdateUserUnique(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	mustUser(t, st, fullUser("app", "alice"))
	bob := mustUser(t, st, fullUser("app", "bob"))
	for _, tt := range []struct {
		name string
		edit func(*imgate.User)
		code int
	}{
		{"keeps its own", func(u *imgate.User) { u.NickName = "b" }, imgate.CodeOK},
		{"taken username", func(u *imgate.User) { u.Username = "alice" }, imgate.CodeUserExists},
		{"taken email", func(u *imgate.User) { u.Email = "alice@example.com" }, imgate.CodeUserExists},
		{"taken mobile", func(u *imgate.User) { u.Mobile = "+86-alice" }, imgate.CodeMobileTaken},
	} {
		_, err := st.UpdateUser(t.Context(), "app", bob.ID, func(u *imgate.User) error {
			tt.edit(u)
			return nil
		})
		wantCode(t, "UpdateUser("+tt.name+")", err, tt.code)
	}
	got, err := st.User(t.Context(), "app", bob.ID)
	if err != nil || got.Username != "bob" || got.Email != "bob@example.com" || got.Mobile != "+86-bob" {
		t.Errorf("User(bob) after refused updates = %+v, %v; want bob's own username, email and mobile", got, err)
	}
}

func (s suite) testUserLists(t *testing.T) {
	s.run(t, "paging", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		var all []imgate.User
		for _, name := range []string{"e", "d", "c", "b", "a"} {
			all = append(all, mustUser(t, st, newUser("app", name)))
		}
		for _, tt := range []struct {
			offset, limit int
			want          []imgate.User
		}{
			{0, 2, all[0:2]},
			{2, 2, all[2:4]},
			{4, 2, all[4:5]},
			{5, 2, nil},
			{0, 100, all},
			{0, 0, nil},
		} {
			got, err := st.Users(t.Context(), "app", tt.offset, tt.limit)
			if err != nil {
				t.Fatalf("Users(%d, %d) = %v", tt.offset, tt.limit, err)
			}
			if d := diff(tt.want, got); d != "" {
				t.Errorf("Users(%d, %d) mismatch (-want +got):\n%s", tt.offset, tt.limit, d)
			}
		}
	})
	s.run(t, "set status", testSetUserStatus)
}

func testSetUserStatus(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	a := mustUser(t, st, newUser("app", "a"))
	b := mustUser(t, st, newUser("app", "b"))
	c := mustUser(t, st, newUser("app", "c"))
	status := func(id int64) imgate.UserStatus {
		t.Helper()
		u, err := st.User(t.Context(), "app", id)
		if err != nil {
			t.Fatalf("User(%d) = %v", id, err)
		}
		return u.Status
	}
	if err := st.SetUserStatus(t.Context(), "app", []int64{a.ID, b.ID, a.ID}, imgate.UserDisabled); err != nil {
		t.Fatalf("SetUserStatus(a, b, a) = %v", err)
	}
	if got := []imgate.UserStatus{status(a.ID), status(b.ID), status(c.ID)}; got[0] != imgate.UserDisabled ||
		got[1] != imgate.UserDisabled || got[2] != imgate.UserNormal {
		t.Errorf("statuses of a, b, c = %v, want [1 1 0]", got)
	}
	err := st.SetUserStatus(t.Context(), "app", []int64{c.ID, c.ID + 1000}, imgate.UserDisabled)
	wantCode(t, "SetUserStatus(c, unknown)", err, imgate.CodeUserNotFound)
	if got := status(c.ID); got != imgate.UserNormal {
		t.Errorf("status of c after the refused update = %v, want %v (all or nothing)", got, imgate.UserNormal)
	}
	if err := st.SetUserStatus(t.Context(), "app", nil, imgate.UserDisabled); err != nil {
		t.Errorf("SetUserStatus(no ids) = %v, want nil", err)
	}
}

func (s suite) testDeleteUser(t *testing.T) {
	s.run(t, "cascades", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		alice := mustUser(t, st, newUser("app", "alice"))
		bob := mustUser(t, st, newUser("app", "bob"))
		for _, u := range []imgate.User{alice, bob} {
			mustDevice(t, st, imgate.Device{AppID: "app", UserID: u.ID, GUID: "g", LastLoginAt: at(1)})
			mustToken(t, st, imgate.Token{ID: u.Username, AppID: "app", Kind: imgate.TokenUser, UserID: u.ID, CreatedAt: at(1)})
		}
		if err := st.DeleteUser(t.Context(), "app", alice.ID); err != nil {
			t.Fatalf("DeleteUser = %v", err)
		}
		_, err := st.User(t.Context(), "app", alice.ID)
		wantCode(t, "User(deleted)", err, imgate.CodeUserNotFound)
		_, err = st.Token(t.Context(), "alice")
		wantCode(t, "Token(of deleted user)", err, imgate.CodeInvalidToken)
		if _, err := st.Device(t.Context(), "app", alice.ID, 1); !errors.Is(err, imgate.ErrDeviceNotFound) {
			t.Errorf("Device(of deleted user) = %v, want ErrDeviceNotFound", err)
		}
		if got, err := st.Devices(t.Context(), "app", alice.ID); err != nil || len(got) != 0 {
			t.Errorf("Devices(of deleted user) = %v, %v; want none", got, err)
		}
		if _, err := st.Token(t.Context(), "bob"); err != nil {
			t.Errorf("Token(of another user) = %v, want kept", err)
		}
		if _, err := st.Device(t.Context(), "app", bob.ID, 1); err != nil {
			t.Errorf("Device(of another user) = %v, want kept", err)
		}
		err = st.DeleteUser(t.Context(), "app", alice.ID)
		wantCode(t, "DeleteUser(again)", err, imgate.CodeUserNotFound)
	})
}
