package gateway_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/storage/embedded"
)

// slowStore is a real store whose login reads take a while, as under a
// login wave, and which counts device writes.
type slowStore struct {
	imgate.Store
	delay   atomic.Int64 // nanoseconds
	writes  atomic.Int64
	waiting atomic.Int64
	onWait  func(n int64) // sees the number waiting, when set
}

func (s *slowStore) LoginState(ctx context.Context, q imgate.LoginQuery) (imgate.LoginState, error) {
	if n := s.waiting.Add(1); s.onWait != nil {
		s.onWait(n)
	}
	defer s.waiting.Add(-1)
	select {
	case <-time.After(time.Duration(s.delay.Load())):
	case <-ctx.Done():
		return imgate.LoginState{}, ctx.Err()
	}
	return s.Store.LoginState(ctx, q)
}

func (s *slowStore) RegisterDevice(ctx context.Context, d imgate.Device) (imgate.Device, error) {
	s.writes.Add(1)
	return s.Store.RegisterDevice(ctx, d)
}

func (s *slowStore) CreateDevice(ctx context.Context, d imgate.Device) (imgate.Device, bool, error) {
	out, ok, err := s.Store.CreateDevice(ctx, d)
	if ok {
		s.writes.Add(1)
	}
	return out, ok, err
}

// TestSlowLogin checks that the login timeout bounds the wait for a
// PROVISION, not the server's work on it: a login the store answers
// after the timeout still succeeds. It also checks that a device coming
// back unchanged soon after is not written again.
func TestSlowLogin(t *testing.T) {
	st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	slow := &slowStore{Store: st}
	slow.delay.Store(int64(400 * time.Millisecond))
	s := start(t, slow, gateway.Config{LoginTimeout: 200 * time.Millisecond})
	uid, tok := s.user("slow")
	c, sn := s.login(uid, 0, tok, "g1")
	c.Close()
	if n := slow.writes.Load(); n != 1 {
		t.Errorf("first login wrote the device %d times, want 1", n)
	}
	// The same device again, at once: read, not written.
	c, sn2 := s.login(uid, sn, tok, "g1")
	c.Close()
	if sn2 != sn || slow.writes.Load() != 1 {
		t.Errorf("reconnect: sn %d (want %d), device writes %d (want 1)", sn2, sn, slow.writes.Load())
	}
	// Another guid on that SN changes the device: written.
	c, _ = s.login(uid, sn, tok, "g2")
	c.Close()
	if n := slow.writes.Load(); n != 2 {
		t.Errorf("a changed device was written %d times in all, want 2", n)
	}
	// A session stopped during its login (here by a shutdown) takes its
	// store work with it: the store call ends long before it would have.
	slow.delay.Store(int64(time.Minute))
	conn := s.dial(client.Options{})
	err = conn.Send(ctx(t), xsync.Frame_PROVISION, &xsync.Provision{
		Xid: &xsync.XID{Uid: uid, DeviceSN: sn}, Token: tok, DeviceGuid: "g2", OsType: xsync.Provision_LINUX,
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the login waits on the store", func() bool { return slow.waiting.Load() == 1 })
	s.gw.Shutdown()
	eventually(t, "the stopped login's store call ends", func() bool { return slow.waiting.Load() == 0 })
}

// TestLoginConcurrency checks that logins beyond Logins wait their turn
// rather than run their store work at once, and still succeed.
func TestLoginConcurrency(t *testing.T) {
	st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	slow := &slowStore{Store: st}
	slow.delay.Store(int64(150 * time.Millisecond))
	var peak atomic.Int64
	slow.onWait = func(n int64) {
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
	}
	s := start(t, slow, gateway.Config{LoginTimeout: 100 * time.Millisecond, Logins: 2})
	type cred struct {
		uid uint64
		tok string
	}
	var creds []cred
	for i := range 6 {
		uid, tok := s.user(fmt.Sprint("u", i))
		creds = append(creds, cred{uid, tok})
	}
	var wg sync.WaitGroup
	for _, c := range creds {
		wg.Go(func() {
			conn, _ := s.login(c.uid, 0, c.tok, "")
			conn.Close()
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Errorf("at most %d logins waited on the store at once, want 2 (the bound, reached)", p)
	}
}
