package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/imgate/imgate"
)

// deviceUser creates app "app" and a user in it, and returns the user id.
func deviceUser(t *testing.T, st imgate.Store) int64 {
	t.Helper()
	mustApp(t, st, "app")
	return mustUser(t, st, newUser("app", "alice")).ID
}

// login is a login of the user's device as the token path records it.
func login(uid int64, sn uint32, guid string, ms int64) imgate.Device {
	return imgate.Device{
		AppID: "app", UserID: uid, SN: sn, GUID: guid,
		Platform: imgate.PlatformAndroid, UserAgent: "ua", PushToken: "pt-" + guid,
		CreatedAt: at(ms), LastLoginAt: at(ms),
	}
}

func (s suite) testRegisterDevice(t *testing.T) {
	s.run(t, "creates with the next SN", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		for i, guid := range []string{"g1", "g2", ""} {
			want := login(uid, 0, guid, int64(i))
			want.NotifierName, want.DeviceToken = "cert", "vendor-token"
			got := mustDevice(t, st, want)
			want.SN = uint32(i + 1)
			if d := diff(want, got); d != "" {
				t.Errorf("RegisterDevice(%q) mismatch (-want +got):\n%s", guid, d)
			}
			read, err := st.Device(t.Context(), "app", uid, want.SN)
			if err != nil {
				t.Fatalf("Device(%d) = %v", want.SN, err)
			}
			if d := diff(want, read); d != "" {
				t.Errorf("Device(%d) mismatch (-want +got):\n%s", want.SN, d)
			}
		}
	})
	s.run(t, "keeps MaxDeviceRecords", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		for i := range imgate.MaxDeviceRecords {
			mustDevice(t, st, login(uid, 0, fmt.Sprintf("g%d", i), int64(i+1)))
		}
		// The first device logs in again: now the oldest are g1, g2.
		mustDevice(t, st, login(uid, 1, "g0", 1000))
		a := mustDevice(t, st, login(uid, 0, "new1", 1001))
		b := mustDevice(t, st, login(uid, 0, "new2", 1002))
		ds, err := st.Devices(t.Context(), "app", uid)
		if err != nil {
			t.Fatal(err)
		}
		kept := map[uint32]bool{}
		for _, d := range ds {
			kept[d.SN] = true
		}
		if len(ds) != imgate.MaxDeviceRecords || !kept[1] || kept[2] || kept[3] || !kept[4] || !kept[a.SN] || !kept[b.SN] {
			t.Errorf("after %d new devices: %d kept (sn 1 %v, 2 %v, 3 %v, 4 %v, %d %v, %d %v); want %d, the two that logged in least recently gone",
				imgate.MaxDeviceRecords+2, len(ds), kept[1], kept[2], kept[3], kept[4], a.SN, kept[a.SN], b.SN, kept[b.SN], imgate.MaxDeviceRecords)
		}
	})
	s.run(t, "finds by SN", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		first := mustDevice(t, st, login(uid, 0, "g1", 1))
		again := login(uid, first.SN, "g1", 5)
		again.Platform, again.UserAgent, again.PushToken = imgate.PlatformIOS, "ua2", "other-push-token"
		got := mustDevice(t, st, again)
		want := first
		want.Platform, want.UserAgent, want.LastLoginAt = imgate.PlatformIOS, "ua2", at(5)
		if d := diff(want, got); d != "" {
			t.Errorf("RegisterDevice(by SN) mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "finds by GUID", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		mustDevice(t, st, login(uid, 0, "g1", 1))
		second := mustDevice(t, st, login(uid, 0, "g2", 2))
		for _, sn := range []uint32{0, 99} {
			got := mustDevice(t, st, login(uid, sn, "g2", 3))
			if got.SN != second.SN || !got.LastLoginAt.Equal(at(3)) {
				t.Errorf("RegisterDevice(sn %d, g2) = SN %d, last login %v; want SN %d, %v",
					sn, got.SN, got.LastLoginAt, second.SN, at(3))
			}
		}
	})
	s.run(t, "fills a missing push token", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		first := login(uid, 0, "g1", 1)
		first.PushToken = ""
		mustDevice(t, st, first)
		got := mustDevice(t, st, login(uid, 1, "g1", 2))
		if got.PushToken != "pt-g1" {
			t.Errorf("PushToken = %q, want the second login's %q", got.PushToken, "pt-g1")
		}
	})
	s.run(t, "moves the GUID", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		mustDevice(t, st, login(uid, 0, "g1", 1))
		mustDevice(t, st, login(uid, 0, "g2", 2))
		got := mustDevice(t, st, login(uid, 1, "g2", 3))
		if got.SN != 1 || got.GUID != "g2" {
			t.Errorf("RegisterDevice(sn 1, g2) = SN %d, GUID %q; want SN 1, GUID g2", got.SN, got.GUID)
		}
		old, err := st.Device(t.Context(), "app", uid, 2)
		if err != nil || old.GUID != "" {
			t.Errorf("Device(2) = GUID %q, %v; want the GUID moved away", old.GUID, err)
		}
	})
	s.run(t, "unknown SN and GUID create", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		mustDevice(t, st, login(uid, 0, "g1", 1))
		got := mustDevice(t, st, login(uid, 7, "g9", 2))
		if got.SN != 2 {
			t.Errorf("RegisterDevice(unknown sn 7) = SN %d, want the next free SN 2", got.SN)
		}
	})
	s.run(t, "next SN is past the highest", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		mustDevice(t, st, login(uid, 0, "g1", 1))
		mustDevice(t, st, login(uid, 0, "g2", 2))
		if err := st.DeleteDevice(t.Context(), "app", uid, 1); err != nil {
			t.Fatalf("DeleteDevice(1) = %v", err)
		}
		if got := mustDevice(t, st, login(uid, 0, "g3", 3)); got.SN != 3 {
			t.Errorf("RegisterDevice after deleting SN 1 of [1 2] = SN %d, want 3", got.SN)
		}
	})
	s.run(t, "SNs are per user", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		bob := mustUser(t, st, newUser("app", "bob")).ID
		mustDevice(t, st, login(uid, 0, "g1", 1))
		if got := mustDevice(t, st, login(bob, 0, "g1", 1)); got.SN != 1 {
			t.Errorf("bob's first device got SN %d, want 1", got.SN)
		}
	})
	s.run(t, "unknown user", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		_, err := st.RegisterDevice(t.Context(), login(uid+1, 0, "g1", 1))
		wantCode(t, "RegisterDevice(unknown user)", err, imgate.CodeUserNotFound)
	})
	s.run(t, "notice seq", testDeviceNoticeSeq)
}

// notifyUser writes n roster notices to the user.
func notifyUser(t *testing.T, st imgate.Store, from, to int64, n int) {
	t.Helper()
	mustRoster(t, st, "app", from, to, func(tx imgate.RosterTx) error {
		for range n {
			if err := tx.Notify(notice("app", to, "n")); err != nil {
				return err
			}
		}
		return nil
	})
}

// testDeviceNoticeSeq checks that a new device starts at the user's
// latest notice and an existing one keeps its own position.
func testDeviceNoticeSeq(t *testing.T, st imgate.Store) {
	uid := deviceUser(t, st)
	bob := mustUser(t, st, newUser("app", "bob")).ID
	// A user without notices.
	if got := mustDevice(t, st, login(uid, 0, "g1", 1)); got.NoticeSeq != 0 {
		t.Errorf("NoticeSeq of a device of a user without notices = %d, want 0", got.NoticeSeq)
	}
	notifyUser(t, st, bob, uid, 3)
	notifyUser(t, st, uid, bob, 5) // another user's notices do not count
	// The caller's NoticeSeq of a new device is not the store's.
	fresh := login(uid, 0, "g2", 2)
	fresh.NoticeSeq = 99
	second := mustDevice(t, st, fresh)
	if second.NoticeSeq != 3 {
		t.Errorf("NoticeSeq of a new device = %d, want the user's latest notice, 3", second.NoticeSeq)
	}
	if read, err := st.Device(t.Context(), "app", uid, second.SN); err != nil || read.NoticeSeq != 3 {
		t.Errorf("Device(new) = NoticeSeq %d, %v; want 3", read.NoticeSeq, err)
	}
	// An existing device keeps its position, by SN and by GUID.
	notifyUser(t, st, bob, uid, 2)
	for _, again := range []imgate.Device{login(uid, 1, "g1", 3), login(uid, 0, "g1", 4)} {
		again.NoticeSeq = 99
		if got := mustDevice(t, st, again); got.SN != 1 || got.NoticeSeq != 0 {
			t.Errorf("RegisterDevice(existing sn %d, %q) = SN %d, NoticeSeq %d; want SN 1, NoticeSeq 0",
				again.SN, again.GUID, got.SN, got.NoticeSeq)
		}
	}
	if got := mustDevice(t, st, login(uid, 0, "g3", 5)); got.NoticeSeq != 5 {
		t.Errorf("NoticeSeq of a device after more notices = %d, want 5", got.NoticeSeq)
	}
	if got := mustDevice(t, st, login(bob, 0, "g1", 5)); got.NoticeSeq != 5 {
		t.Errorf("NoticeSeq of bob's new device = %d, want bob's latest, 5", got.NoticeSeq)
	}
}

func (s suite) testDevices(t *testing.T) {
	s.run(t, "list by SN", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		bob := mustUser(t, st, newUser("app", "bob")).ID
		var want []imgate.Device
		for _, guid := range []string{"g1", "g2", "g3"} {
			want = append(want, mustDevice(t, st, login(uid, 0, guid, 1)))
		}
		mustDevice(t, st, login(bob, 0, "g1", 1))
		got, err := st.Devices(t.Context(), "app", uid)
		if err != nil {
			t.Fatalf("Devices = %v", err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("Devices mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "unknown", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		_, err := st.Device(t.Context(), "app", uid, 1)
		if !errors.Is(err, imgate.ErrDeviceNotFound) || imgate.ErrorCode(err) != imgate.CodeInvalidParameter {
			t.Errorf("Device(unknown) = %v, want ErrDeviceNotFound", err)
		}
		_, err = st.UpdateDevice(t.Context(), "app", uid, 1, func(*imgate.Device) error {
			t.Error("fn called for an unknown device")
			return nil
		})
		if !errors.Is(err, imgate.ErrDeviceNotFound) {
			t.Errorf("UpdateDevice(unknown) = %v, want ErrDeviceNotFound", err)
		}
		if err := st.DeleteDevice(t.Context(), "app", uid, 1); !errors.Is(err, imgate.ErrDeviceNotFound) {
			t.Errorf("DeleteDevice(unknown) = %v, want ErrDeviceNotFound", err)
		}
	})
	s.run(t, "update", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		want := mustDevice(t, st, login(uid, 0, "g1", 1))
		want.NotifierName, want.DeviceToken = "apns-cert", "vendor-token"
		got, err := st.UpdateDevice(t.Context(), "app", uid, want.SN, func(d *imgate.Device) error {
			d.NotifierName, d.DeviceToken = want.NotifierName, want.DeviceToken
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateDevice = %v", err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("UpdateDevice result mismatch (-want +got):\n%s", d)
		}
		read, err := st.Device(t.Context(), "app", uid, want.SN)
		if err != nil {
			t.Fatalf("Device = %v", err)
		}
		if d := diff(want, read); d != "" {
			t.Errorf("Device after update mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "update notice seq", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		want := mustDevice(t, st, login(uid, 0, "g1", 1))
		want.NoticeSeq = 42
		got, err := st.UpdateDevice(t.Context(), "app", uid, want.SN, func(d *imgate.Device) error {
			d.NoticeSeq = 42
			return nil
		})
		if err != nil || got.NoticeSeq != 42 {
			t.Fatalf("UpdateDevice(NoticeSeq 42) = NoticeSeq %d, %v; want 42", got.NoticeSeq, err)
		}
		read, err := st.Device(t.Context(), "app", uid, want.SN)
		if err != nil {
			t.Fatalf("Device = %v", err)
		}
		if d := diff(want, read); d != "" {
			t.Errorf("Device after update of NoticeSeq mismatch (-want +got):\n%s", d)
		}
		// A later login keeps it.
		if again := mustDevice(t, st, login(uid, want.SN, "g1", 2)); again.NoticeSeq != 42 {
			t.Errorf("NoticeSeq after another login = %d, want 42", again.NoticeSeq)
		}
	})
	s.run(t, "update fn error aborts", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		want := mustDevice(t, st, login(uid, 0, "g1", 1))
		boom := errors.New("boom")
		_, err := st.UpdateDevice(t.Context(), "app", uid, want.SN, func(d *imgate.Device) error {
			d.DeviceToken = "changed"
			return boom
		})
		if err != boom {
			t.Errorf("UpdateDevice(fn fails) = %v, want fn's error as is", err)
		}
		got, err := st.Device(t.Context(), "app", uid, want.SN)
		if err != nil {
			t.Fatalf("Device = %v", err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("Device after aborted update mismatch (-want +got):\n%s", d)
		}
	})
	s.run(t, "delete", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		mustDevice(t, st, login(uid, 0, "g1", 1))
		mustDevice(t, st, login(uid, 0, "g2", 1))
		if err := st.DeleteDevice(t.Context(), "app", uid, 1); err != nil {
			t.Fatalf("DeleteDevice = %v", err)
		}
		if _, err := st.Device(t.Context(), "app", uid, 1); !errors.Is(err, imgate.ErrDeviceNotFound) {
			t.Errorf("Device(deleted) = %v, want ErrDeviceNotFound", err)
		}
		if _, err := st.Device(t.Context(), "app", uid, 2); err != nil {
			t.Errorf("Device(other) = %v, want kept", err)
		}
		if err := st.DeleteDevice(t.Context(), "app", uid, 1); !errors.Is(err, imgate.ErrDeviceNotFound) {
			t.Errorf("DeleteDevice(again) = %v, want ErrDeviceNotFound", err)
		}
	})
}

func (s suite) testCreateDevice(t *testing.T) {
	s.run(t, "creates as RegisterDevice would", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		viaRegister := mustDevice(t, st, login(uid, 0, "g1", 1))
		notifyUser(t, st, mustUser(t, st, newUser("app", "bob")).ID, uid, 2)
		want := login(uid, 0, "g2", 2)
		want.NotifierName, want.DeviceToken = "cert", "vendor-token"
		got, ok, err := st.CreateDevice(t.Context(), want)
		if err != nil || !ok {
			t.Fatalf("CreateDevice(g2) = %v, %v; want created", ok, err)
		}
		state, err := st.LoginState(t.Context(), imgate.LoginQuery{App: "app", User: uid})
		if err != nil || state.LastNotice == 0 {
			t.Fatalf("LoginState = %+v, %v; want notices", state, err)
		}
		want.SN, want.NoticeSeq = viaRegister.SN+1, state.LastNotice
		if d := diff(want, got); d != "" {
			t.Errorf("CreateDevice mismatch (-want +got):\n%s", d)
		}
		if read, err := st.Device(t.Context(), "app", uid, want.SN); err != nil || diff(want, read) != "" {
			t.Errorf("Device(%d) = %+v, %v; want %+v", want.SN, read, err, want)
		}
		// The user's next SN follows the highest, whichever call made it.
		if next := mustDevice(t, st, login(uid, 0, "g3", 3)); next.SN != want.SN+1 {
			t.Errorf("RegisterDevice after CreateDevice: SN %d, want %d", next.SN, want.SN+1)
		}
	})
	s.run(t, "creates nothing for a known SN or GUID or an unknown user", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		known := mustDevice(t, st, login(uid, 0, "g1", 1))
		for name, d := range map[string]imgate.Device{
			"known SN":     login(uid, known.SN, "other", 2),
			"known GUID":   login(uid, 0, "g1", 2),
			"unknown user": login(uid+1000, 0, "g9", 2),
		} {
			if got, ok, err := st.CreateDevice(t.Context(), d); ok || err != nil {
				t.Errorf("CreateDevice(%s) = %+v, %v, %v; want nothing created", name, got, ok, err)
			}
		}
		if ds, err := st.Devices(t.Context(), "app", uid); err != nil || len(ds) != 1 {
			t.Errorf("Devices = %d, %v; want the one", len(ds), err)
		}
	})
	s.run(t, "concurrent new devices get distinct SNs", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		const n = 8
		sns := make(chan uint32, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				d := login(uid, 0, fmt.Sprintf("g%d", i), 1)
				got, ok, _ := st.CreateDevice(t.Context(), d)
				if !ok { // as the gateway does
					var err error
					if got, err = st.RegisterDevice(t.Context(), d); err != nil {
						t.Errorf("RegisterDevice(%s) = %v", d.GUID, err)
					}
				}
				sns <- got.SN
			})
		}
		wg.Wait()
		close(sns)
		seen := map[uint32]bool{}
		for sn := range sns {
			if sn == 0 || seen[sn] {
				t.Errorf("SN %d given twice or not at all", sn)
			}
			seen[sn] = true
		}
		if ds, err := st.Devices(t.Context(), "app", uid); err != nil || len(ds) != n {
			t.Errorf("Devices = %d, %v; want %d", len(ds), err, n)
		}
	})
}

// testSNsNotReused deletes the user's newest device and checks that the
// next new one, made by either call, takes a new SN: a client still
// holding the deleted SN must not log in as another device.
func (s suite) testSNsNotReused(t *testing.T) {
	s.run(t, "after a delete", func(t *testing.T, st imgate.Store) {
		uid := deviceUser(t, st)
		for i := range 3 {
			mustDevice(t, st, login(uid, 0, fmt.Sprintf("g%d", i), int64(i)))
		}
		if err := st.DeleteDevice(t.Context(), "app", uid, 3); err != nil {
			t.Fatal(err)
		}
		if got := mustDevice(t, st, login(uid, 0, "g3", 4)); got.SN != 4 {
			t.Errorf("RegisterDevice after SN 3 was deleted: SN %d, want 4", got.SN)
		}
		if err := st.DeleteDevice(t.Context(), "app", uid, 4); err != nil {
			t.Fatal(err)
		}
		got, ok, err := st.CreateDevice(t.Context(), login(uid, 0, "g4", 5))
		if err != nil || !ok || got.SN != 5 {
			t.Errorf("CreateDevice after SN 4 was deleted: SN %d, %v, %v; want 5", got.SN, ok, err)
		}
	})
}
