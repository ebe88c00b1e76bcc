package auth_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/metrics"
	"github.com/imgate/imgate/storage/embedded"
)

// counting wraps a store and counts token lookups, to see the cache work.
type counting struct {
	imgate.Store
	lookups atomic.Int64
}

func (c *counting) Token(ctx context.Context, id string) (imgate.Token, error) {
	c.lookups.Add(1)
	return c.Store.Token(ctx, id)
}

type fixture struct {
	store  *counting
	tokens *auth.Tokens
	now    *atomic.Int64 // unix ms
	uid    int64
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	s, err := embedded.Open(ctx, embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := fixture{store: &counting{Store: s}, now: &atomic.Int64{}}
	f.now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	clock := func() time.Time { return time.UnixMilli(f.now.Load()) }
	secret, err := auth.LoadSecret(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens, err = auth.New(f.store, auth.Config{Secret: secret, UserTokenTTL: time.Hour, CacheTTL: time.Minute}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApp(ctx, imgate.App{ID: "app", Name: "app", CreatedAt: clock()}); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, imgate.User{AppID: "app", Username: "u", CreatedAt: clock(), UpdatedAt: clock()})
	if err != nil {
		t.Fatal(err)
	}
	f.uid = u.ID
	return f
}

func (f fixture) advance(d time.Duration) { f.now.Add(d.Milliseconds()) }

func wantCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	if got := imgate.ErrorCode(err); got != code {
		t.Errorf("%s: got code %d (%v), want %d", what, got, err, code)
	}
}

func TestVerify(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	raw, tok, err := f.tokens.IssueUser(ctx, "app", f.uid, "guid")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.tokens.Verify(ctx, raw)
	if err != nil || got.ID != tok.ID || got.UserID != f.uid || got.Kind != imgate.TokenUser {
		t.Fatalf("Verify = %+v, %v; want the issued token", got, err)
	}
	for i := 0; i < 10; i++ {
		if _, err := f.tokens.Verify(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.store.lookups.Load(); n != 1 {
		t.Errorf("11 verifications looked the token up %d times, want 1 (cached)", n)
	}
	f.advance(2 * time.Minute)
	if _, err := f.tokens.Verify(ctx, raw); err != nil || f.store.lookups.Load() != 2 {
		t.Errorf("after the cache TTL: %v, %d lookups; want a second lookup", err, f.store.lookups.Load())
	}
	f.advance(time.Hour)
	_, err = f.tokens.Verify(ctx, raw)
	wantCode(t, "expired token", err, imgate.CodeTokenEnded)
}

func TestForgedTokens(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	raw, _, err := f.tokens.IssueAdmin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(raw, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	other, err := auth.New(f.store, auth.Config{Secret: []byte("another secret")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, err := other.IssueAdmin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"alg none":         none + "." + parts[1] + ".",
		"other secret":     foreign,
		"payload swapped":  parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"app":"app","role":2,"sub":"0","jti":"x"}`)) + "." + parts[2],
		"empty":            "",
		"garbage":          "a.b.c",
		"huge":             strings.Repeat("x", 5000),
		"signature cut":    raw[:len(raw)-10],
		"not a jwt at all": "hello",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.tokens.Verify(ctx, bad)
			wantCode(t, name, err, imgate.CodeInvalidToken)
		})
	}
}

func TestRevoke(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	keep, keepTok, _ := f.tokens.IssueUser(ctx, "app", f.uid, "")
	drop, _, _ := f.tokens.IssueUser(ctx, "app", f.uid, "")
	admin, _, _ := f.tokens.IssueAdmin(ctx, "app")
	for _, raw := range []string{keep, drop, admin} {
		if _, err := f.tokens.Verify(ctx, raw); err != nil { // fill the cache
			t.Fatal(err)
		}
	}
	dropID, err := f.tokens.ID(drop)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := f.tokens.RevokeUser(ctx, "app", f.uid, keepTok.ID); err != nil || len(ids) != 1 || ids[0] != dropID {
		t.Fatalf("RevokeUser = %q, %v; want [%s]", ids, err, dropID)
	}
	// Revocation through this process is seen at once, cache or not.
	_, err = f.tokens.Verify(ctx, drop)
	wantCode(t, "revoked user token", err, imgate.CodeTokenEnded)
	if _, err := f.tokens.Verify(ctx, keep); err != nil {
		t.Errorf("kept token: %v", err)
	}
	id, err := f.tokens.ID(admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.tokens.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = f.tokens.Verify(ctx, admin)
	wantCode(t, "revoked admin token", err, imgate.CodeInvalidToken)
	wantCode(t, "revoking an unknown id", f.tokens.Revoke(ctx, "nope"), imgate.CodeInvalidToken)
}

func TestDisabledUser(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	raw, _, _ := f.tokens.IssueUser(ctx, "app", f.uid, "")
	if _, err := f.tokens.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetUserStatus(ctx, "app", []int64{f.uid}, imgate.UserDisabled); err != nil {
		t.Fatal(err)
	}
	f.tokens.ForgetUser("app", f.uid)
	_, err := f.tokens.Verify(ctx, raw)
	wantCode(t, "disabled user's token", err, imgate.CodeForbidden)
	if err := f.store.DeleteUser(ctx, "app", f.uid); err != nil {
		t.Fatal(err)
	}
	f.tokens.ForgetUser("app", f.uid)
	_, err = f.tokens.Verify(ctx, raw)
	wantCode(t, "deleted user's token", err, imgate.CodeInvalidToken)
}

func TestImport(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	const maxim = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJhcHAiOiJkcGJkdmVrZmVjYm8ifQ.sig"
	_, err := f.tokens.Verify(ctx, maxim)
	wantCode(t, "before import", err, imgate.CodeInvalidToken)
	lookups := f.store.lookups.Load()
	for i := 0; i < 5; i++ {
		_, _ = f.tokens.Verify(ctx, maxim) // only the lookup count matters here
	}
	if n := f.store.lookups.Load() - lookups; n != 0 {
		t.Errorf("a repeated unknown token hit the store %d more times; want the miss cached", n)
	}
	f.advance(2 * time.Minute) // the cached miss expires
	if _, err := f.tokens.Import(ctx, "app", maxim); err != nil {
		t.Fatal(err)
	}
	tok, err := f.tokens.Verify(ctx, maxim)
	if err != nil || tok.Kind != imgate.TokenAdmin || tok.AppID != "app" {
		t.Fatalf("imported token verifies as %+v, %v", tok, err)
	}
	own, _, _ := f.tokens.IssueAdmin(ctx, "app")
	_, err = f.tokens.Import(ctx, "app", own)
	wantCode(t, "importing imgate's own token", err, imgate.CodeInvalidParameter)
	id, _ := f.tokens.ID(maxim)
	if err := f.tokens.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = f.tokens.Verify(ctx, maxim)
	wantCode(t, "revoked imported token", err, imgate.CodeInvalidToken)
}

func TestLoadSecret(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a, err := auth.LoadSecret(ctx, f.store, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := auth.LoadSecret(ctx, f.store, "")
	if string(a) != string(b) || len(a) != 32 {
		t.Errorf("stored secret changed between loads or is %d bytes", len(a))
	}
	configured := "configured secret of 32 bytes..."
	if c, _ := auth.LoadSecret(ctx, f.store, configured); string(c) != configured {
		t.Errorf("a configured secret was not used")
	}
	if _, err := auth.LoadSecret(ctx, f.store, configured[:31]); err == nil {
		t.Errorf("a configured secret of 31 bytes was taken")
	}
}

func TestSign(t *testing.T) {
	f := setup(t)
	msg := []byte("group 42 until 1700000000")
	sig := f.tokens.Sign("qrcode", msg)
	if !f.tokens.Valid("qrcode", msg, sig) {
		t.Errorf("a signature does not verify")
	}
	if f.tokens.Valid("other purpose", msg, sig) || f.tokens.Valid("qrcode", []byte("group 43 until 1700000000"), sig) {
		t.Errorf("a signature verifies for another purpose or message")
	}
}

// A token string whose signature was checked once is not checked again,
// but a string differing from it is, and its record is still looked up
// through the cache, whose hits and misses are counted.
func TestVerifyChecksOnce(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	secret, _ := auth.LoadSecret(ctx, f.store, "")
	tokens, err := auth.New(f.store, auth.Config{Secret: secret, Metrics: metrics.New(reg)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := tokens.IssueAdmin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := tokens.Verify(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	i := len(raw) - 10 // inside the signature, clear of its last character's unused bits
	forged := raw[:i] + string(rune('a'+(raw[i]-'a'+1)%26)) + raw[i+1:]
	_, err = tokens.Verify(ctx, forged)
	wantCode(t, "the checked token with another signature", err, imgate.CodeInvalidToken)
	for result, want := range map[string]float64{"hit": 2, "miss": 2} { // the forged string misses as an imported token
		if got := lookups(t, reg, result); got != want {
			t.Errorf("token cache %s = %v, want %v", result, got, want)
		}
	}
}

func lookups(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if mf.GetName() == "imgate_cache_lookups_total" && labels["cache"] == "token" && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no imgate_cache_lookups_total{cache=token,result=%s}", result)
	return 0
}

// BenchmarkVerify is the verification of an admin token on every REST
// request: a cache hit.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	s, err := embedded.Open(ctx, embedded.Config{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tokens, err := auth.New(s, auth.Config{Secret: []byte("bench secret")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.CreateApp(ctx, imgate.App{ID: "app", Name: "app", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	raw, _, err := tokens.IssueAdmin(ctx, "app")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}
