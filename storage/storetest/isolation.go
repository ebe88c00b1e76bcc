package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/imgate/imgate"
)

func (s suite) testAppIsolation(t *testing.T) {
	s.run(t, "users of one app are invisible from another", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "a")
		mustApp(t, st, "b")
		alice := mustUser(t, st, fullUser("a", "alice"))
		ctx := t.Context()
		_, err := st.User(ctx, "b", alice.ID)
		wantCode(t, "User from b", err, imgate.CodeUserNotFound)
		_, err = st.UserByName(ctx, "b", "alice")
		wantCode(t, "UserByName from b", err, imgate.CodeUserNotFound)
		for _, login := range []string{"alice", alice.Email, alice.Mobile} {
			_, err = st.UserByLogin(ctx, "b", login)
			wantCode(t, "UserByLogin("+login+") from b", err, imgate.CodeUserNotFound)
		}
		_, err = st.UpdateUser(ctx, "b", alice.ID, func(*imgate.User) error { return nil })
		wantCode(t, "UpdateUser from b", err, imgate.CodeUserNotFound)
		err = st.SetUserStatus(ctx, "b", []int64{alice.ID}, imgate.UserNormal)
		wantCode(t, "SetUserStatus from b", err, imgate.CodeUserNotFound)
		err = st.DeleteUser(ctx, "b", alice.ID)
		wantCode(t, "DeleteUser from b", err, imgate.CodeUserNotFound)
		_, err = st.RegisterDevice(ctx, imgate.Device{AppID: "b", UserID: alice.ID, GUID: "g"})
		wantCode(t, "RegisterDevice from b", err, imgate.CodeUserNotFound)
		if got, err := st.Users(ctx, "b", 0, 10); err != nil || len(got) != 0 {
			t.Errorf("Users of b = %v, %v; want none", got, err)
		}
		if _, err := st.User(ctx, "a", alice.ID); err != nil {
			t.Errorf("User from a after b's attempts = %v, want kept", err)
		}
	})
	s.run(t, "same username, email and mobile in two apps", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "a")
		mustApp(t, st, "b")
		inA := mustUser(t, st, fullUser("a", "alice"))
		inB := mustUser(t, st, fullUser("b", "alice"))
		if inA.ID == inB.ID {
			t.Errorf("users of two apps got one id %d", inA.ID)
		}
		got, err := st.UserByName(t.Context(), "b", "alice")
		if err != nil || got.ID != inB.ID {
			t.Errorf("UserByName(b, alice) = user %d, %v; want user %d", got.ID, err, inB.ID)
		}
	})
	s.run(t, "devices of one app are invisible from another", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "a")
		mustApp(t, st, "b")
		alice := mustUser(t, st, newUser("a", "alice"))
		mustDevice(t, st, imgate.Device{AppID: "a", UserID: alice.ID, GUID: "g"})
		if _, err := st.Device(t.Context(), "b", alice.ID, 1); !errors.Is(err, imgate.ErrDeviceNotFound) {
			t.Errorf("Device from b = %v, want ErrDeviceNotFound", err)
		}
		if got, err := st.Devices(t.Context(), "b", alice.ID); err != nil || len(got) != 0 {
			t.Errorf("Devices from b = %v, %v; want none", got, err)
		}
		_, err := st.UpdateDevice(t.Context(), "b", alice.ID, 1, func(*imgate.Device) error { return nil })
		if !errors.Is(err, imgate.ErrDeviceNotFound) {
			t.Errorf("UpdateDevice from b = %v, want ErrDeviceNotFound", err)
		}
		if err := st.DeleteDevice(t.Context(), "b", alice.ID, 1); !errors.Is(err, imgate.ErrDeviceNotFound) {
			t.Errorf("DeleteDevice from b = %v, want ErrDeviceNotFound", err)
		}
	})
}

func (s suite) testConcurrency(t *testing.T) {
	s.run(t, "same username: exactly one succeeds", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				u := newUser("app", "alice")
				u.Email = fmt.Sprintf("alice%d@x", i)
				_, errs[i] = st.CreateUser(t.Context(), u)
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			if err == nil {
				ok++
				continue
			}
			wantCode(t, fmt.Sprintf("goroutine %d", i), err, imgate.CodeUserExists)
		}
		if ok != 1 {
			t.Errorf("%d of %d concurrent creates of one username succeeded, want 1", ok, n)
		}
	})
	s.run(t, "different usernames: unique ids", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		const n = 16
		ids := make([]int64, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				u, err := st.CreateUser(t.Context(), newUser("app", fmt.Sprintf("user%d", i)))
				if err != nil {
					t.Errorf("goroutine %d: CreateUser = %v", i, err)
				}
				ids[i] = u.ID
			})
		}
		wg.Wait()
		seen := map[int64]bool{}
		for i, id := range ids {
			if seen[id] {
				t.Errorf("goroutine %d got id %d twice", i, id)
			}
			seen[id] = true
		}
		if got, err := st.Users(t.Context(), "app", 0, 100); err != nil || len(got) != n {
			t.Errorf("Users = %d users, %v; want %d", len(got), err, n)
		}
	})
	s.run(t, "devices of one user: unique SNs", func(t *testing.T, st imgate.Store) {
		mustApp(t, st, "app")
		u := mustUser(t, st, newUser("app", "alice"))
		const n = 8
		sns := make([]uint32, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				d, err := st.RegisterDevice(t.Context(), imgate.Device{AppID: "app", UserID: u.ID, GUID: fmt.Sprintf("g%d", i)})
				if err != nil {
					t.Errorf("goroutine %d: RegisterDevice = %v", i, err)
				}
				sns[i] = d.SN
			})
		}
		wg.Wait()
		seen := map[uint32]bool{}
		for i, sn := range sns {
			if sn < 1 || sn > n || seen[sn] {
				t.Errorf("goroutine %d got SN %d; want each of 1..%d once", i, sn, n)
			}
			seen[sn] = true
		}
	})
}
