package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/storage/embedded"
)

// watchTokens runs the server's token watch every interval until the
// test ends.
func watchTokens(t *testing.T, s *server, every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.gw.WatchTokens(ctx, every); err != nil {
			t.Errorf("WatchTokens: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// TestRevokedTokenEndsSession revokes a token from another process, as
// `imgate token revoke` does (no bus reaches the node): the session
// logged in with it ends with 4006 within the check interval, the node's
// cached verification of it is forgotten (a REST call is refused), and
// another user's session stays.
func TestRevokedTokenEndsSession(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	const every = 100 * time.Millisecond
	watchTokens(t, s, every)
	alice, atok := s.user("alice")
	bob, btok := s.user("bob")
	a, _ := s.login(alice, 0, atok, "ga")
	b, _ := s.login(bob, 0, btok, "gb")
	settings := func(tok string) int {
		code, _ := s.rest("GET", "/user/settings", map[string]string{"app_id": "app", "access-token": tok}, "")
		return code
	}
	if code := settings(atok); code != 200 { // verified and cached
		t.Fatalf("settings before the revocation: %d", code)
	}

	other, err := auth.New(s.store, auth.Config{Secret: []byte("secret")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := other.ID(atok)
	if err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	if err := other.Revoke(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if code, _ := closed(t, a); code != 4006 {
		t.Errorf("session of the revoked token closed with %d, want 4006", code)
	}
	// Bound: the interval, plus the time a check and a close take here.
	if took := time.Since(revoked); took > every+2*time.Second {
		t.Errorf("session ended %v after the revocation, want within the check interval (%v) and a margin", took, every)
	}
	if code := settings(atok); code != int(imgate.CodeTokenEnded) {
		t.Errorf("REST call with the revoked token: %d, want %d", code, imgate.CodeTokenEnded)
	}
	if !s.online(bob) || settings(btok) != 200 {
		t.Error("bob's session or token ended with alice's token")
	}
	b.Close()
}

// TestExpiredTokenEndsSession logs in with a token that expires a second
// later: the session ends with 4006 once it has, and a new login with it
// is refused.
func TestExpiredTokenEndsSession(t *testing.T) {
	st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateApp(context.Background(), imgate.App{ID: "app", Name: "app", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	const ttl, every = time.Second, 100 * time.Millisecond
	s := restartAuth(t, st, gateway.Config{}, auth.Config{UserTokenTTL: ttl})
	watchTokens(t, s, every)
	alice, atok := s.user("alice")
	issued := time.Now()
	a, _ := s.login(alice, 0, atok, "ga")
	if code, _ := closed(t, a); code != 4006 {
		t.Errorf("session of the expired token closed with %d, want 4006", code)
	}
	if took := time.Since(issued); took < ttl-100*time.Millisecond || took > ttl+every+2*time.Second {
		t.Errorf("session ended %v after its token was issued, want after the token's %v and within the interval (%v) and a margin", took, ttl, every)
	}
	p, err := s.dial(client.Options{}).Login(ctx(t), alice, 0, atok, "ga")
	if err != nil || p.Status.GetCode() != xsync.Status_INVALID_TOKEN {
		t.Errorf("login with the expired token: %v, %v; want INVALID_TOKEN", p, err)
	}
}
