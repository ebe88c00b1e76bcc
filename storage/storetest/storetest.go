// Package storetest is the one contract suite of imgate.Store: the
// PostgreSQL and the embedded store both pass it, so a behaviour the admin
// API relies on holds whichever store a node runs.
package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/imgate/imgate"
)

// Run checks the stores that open returns against every method of
// imgate.Store and every code its docs name. open must return a fresh,
// empty store on each call and close it when t ends; subtests call it in
// parallel.
func Run(t *testing.T, open func(t *testing.T) imgate.Store) {
	s := suite{open: open}
	t.Run("Ping", s.testPing)
	t.Run("Secret", s.testSecret)
	t.Run("Apps", s.testApps)
	t.Run("Tokens", s.testTokens)
	t.Run("Users", s.testUsers)
	t.Run("UserLookup", s.testUserLookup)
	t.Run("UpdateUser", s.testUpdateUser)
	t.Run("UserLists", s.testUserLists)
	t.Run("DeleteUser", s.testDeleteUser)
	t.Run("AppIsolation", s.testAppIsolation)
	t.Run("Concurrency", s.testConcurrency)
	t.Run("RegisterDevice", s.testRegisterDevice)
	t.Run("CreateDevice", s.testCreateDevice)
	t.Run("DeviceSNsNotReused", s.testSNsNotReused)
	t.Run("LoginState", s.testLoginState)
	t.Run("Devices", s.testDevices)
	t.Run("Roster", s.testRoster)
	t.Run("RosterLists", s.testRosterLists)
	t.Run("CreateGroup", s.testCreateGroup)
	t.Run("GroupTx", s.testGroupTx)
	t.Run("UserGroups", s.testUserGroups)
	t.Run("GroupReads", s.testGroupReads)
	t.Run("GroupExtras", s.testGroupExtras)
	t.Run("DestroyGroup", s.testDestroyGroup)
	t.Run("Notices", s.testNotices)
	t.Run("DeleteUserSocial", s.testDeleteUserSocial)
	t.Run("SocialIsolation", s.testSocialIsolation)
	t.Run("MixedWriters", s.testMixedWriters)
	t.Run("Messages", s.testMessages)
	t.Run("Reads", s.testReads)
	t.Run("OperUnreads", s.testOperUnreads)
	t.Run("MessageViews", s.testMessageViews)
	t.Run("MessageConcurrency", s.testMessageConcurrency)
	t.Run("Outbox", s.testOutbox)
}

// suite runs each case on a fresh store of its own.
type suite struct {
	open func(t *testing.T) imgate.Store
}

// run runs fn as a parallel subtest with a fresh store.
func (s suite) run(t *testing.T, name string, fn func(t *testing.T, st imgate.Store)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		fn(t, s.open(t))
	})
}

func (s suite) testPing(t *testing.T) {
	s.run(t, "answers", func(t *testing.T, st imgate.Store) {
		if err := st.Ping(t.Context()); err != nil {
			t.Errorf("Ping() = %v, want nil", err)
		}
	})
}

// at returns a fixed instant plus ms milliseconds. The stores keep times
// to the millisecond, so tests build them from milliseconds.
func at(ms int64) time.Time {
	return time.UnixMilli(1_700_000_000_000 + ms)
}

// diff compares store results, treating nil and empty lists alike.
func diff(want, got any) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

// wantCode fails t unless err carries the MaxIM code want.
func wantCode(t *testing.T, what string, err error, want int) {
	t.Helper()
	if got := imgate.ErrorCode(err); got != want {
		t.Errorf("%s: code %d (err %v), want %d", what, got, err, want)
	}
}

// mustApp creates an app with the id.
func mustApp(t *testing.T, st imgate.Store, id string) imgate.App {
	t.Helper()
	app := imgate.App{ID: id, Name: "app " + id, Status: imgate.AppNormal, CreatedAt: at(0)}
	if err := st.CreateApp(t.Context(), app); err != nil {
		t.Fatalf("CreateApp(%q) = %v", id, err)
	}
	return app
}

// mustUser creates u and returns it as stored.
func mustUser(t *testing.T, st imgate.Store, u imgate.User) imgate.User {
	t.Helper()
	got, err := st.CreateUser(t.Context(), u)
	if err != nil {
		t.Fatalf("CreateUser(%q) = %v", u.Username, err)
	}
	return got
}

// newUser is a user of the app with the username and nothing else unique.
func newUser(appID, username string) imgate.User {
	return imgate.User{AppID: appID, Username: username, PasswordHash: "hash-" + username, CreatedAt: at(1), UpdatedAt: at(1)}
}

// mustToken stores tok.
func mustToken(t *testing.T, st imgate.Store, tok imgate.Token) {
	t.Helper()
	if err := st.CreateToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateToken(%q) = %v", tok.ID, err)
	}
}

// mustDevice registers d and returns the device as stored.
func mustDevice(t *testing.T, st imgate.Store, d imgate.Device) imgate.Device {
	t.Helper()
	got, err := st.RegisterDevice(t.Context(), d)
	if err != nil {
		t.Fatalf("RegisterDevice(sn %d, guid %q) = %v", d.SN, d.GUID, err)
	}
	return got
}
