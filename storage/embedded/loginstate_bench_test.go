package embedded

import (
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// BenchmarkLoginReads compares a login's one read of its state with the
// reads it replaces, for a user with no groups or messages.
func BenchmarkLoginReads(b *testing.B) {
	st, err := Open(b.Context(), Config{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := b.Context()
	st.CreateApp(ctx, imgate.App{ID: "app", Name: "app", CreatedAt: time.Now()})
	u, err := st.CreateUser(ctx, imgate.User{AppID: "app", Username: "u", CreatedAt: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	d, err := st.RegisterDevice(ctx, imgate.Device{AppID: "app", UserID: u.ID, LastLoginAt: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("LoginState", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.LoginState(ctx, imgate.LoginQuery{App: "app", User: u.ID, SN: d.SN, Convs: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LoginState without convs", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.LoginState(ctx, imgate.LoginQuery{App: "app", User: u.ID, SN: d.SN}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("separate", func(b *testing.B) {
		for b.Loop() {
			st.User(ctx, "app", u.ID)
			st.Device(ctx, "app", u.ID, d.SN)
			st.UserGroups(ctx, "app", u.ID)
			st.Conversations(ctx, "app", u.ID)
			st.Notices(ctx, "app", u.ID, 0, 100)
		}
	})
	b.Run("User", func(b *testing.B) {
		for b.Loop() {
			st.User(ctx, "app", u.ID)
		}
	})
	b.Run("Conversations", func(b *testing.B) {
		for b.Loop() {
			st.Conversations(ctx, "app", u.ID)
		}
	})
	b.Run("Notices", func(b *testing.B) {
		for b.Loop() {
			st.Notices(ctx, "app", u.ID, 0, 100)
		}
	})
	b.Run("Device", func(b *testing.B) {
		for b.Loop() {
			st.Device(ctx, "app", u.ID, d.SN)
		}
	})
	b.Run("UserGroups", func(b *testing.B) {
		for b.Loop() {
			st.UserGroups(ctx, "app", u.ID)
		}
	})
}
