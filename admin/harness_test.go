package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/admin"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/embedded"
	"github.com/imgate/imgate/storage/postgres"
)

// api is a running REST API with one app and its admin token.
type api struct {
	t      *testing.T
	url    string
	app    string
	admin  string
	store  imgate.Store
	tokens *auth.Tokens
}

// stores runs the test against a fresh REST API on each store.
func stores(t *testing.T, test func(t *testing.T, a *api)) {
	eachStore(t, func(t *testing.T, s imgate.Store) { test(t, start(t, s)) })
}

// eachStore runs the test with a fresh store of each kind.
func eachStore(t *testing.T, test func(t *testing.T, s imgate.Store)) {
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		s, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, quiet())
		if err != nil {
			t.Fatal(err)
		}
		test(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		s, err := postgres.Open(context.Background(), postgres.Config{DSN: pgtest.DSN(t)}, quiet())
		if err != nil {
			t.Fatal(err)
		}
		test(t, s)
	})
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func start(t *testing.T, s imgate.Store) *api {
	t.Helper()
	return startWith(t, s, admin.Config{PasswordCost: 4, MaxListLen: 50})
}

// startWith serves the REST API with the configuration.
func startWith(t *testing.T, s imgate.Store, cfg admin.Config) *api {
	t.Helper()
	return startWithCore(t, s, cfg, delivery.Config{})
}

// startWithCore serves the REST API with the configuration, over a
// delivery core of its own configuration.
func startWithCore(t *testing.T, s imgate.Store, cfg admin.Config, dcfg delivery.Config) *api {
	t.Helper()
	return startAuthCore(t, s, cfg, auth.Config{}, nil, dcfg)
}

// startAuth serves the REST API with the configurations of the API and of
// its tokens (whose secret it sets) and the clock (nil: time.Now).
func startAuth(t *testing.T, s imgate.Store, cfg admin.Config, acfg auth.Config, now func() time.Time) *api {
	t.Helper()
	return startAuthCore(t, s, cfg, acfg, now, delivery.Config{})
}

// startAuthCore is startAuth over a delivery core of its own
// configuration.
func startAuthCore(t *testing.T, s imgate.Store, cfg admin.Config, acfg auth.Config, now func() time.Time, dcfg delivery.Config) *api {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	acfg.Secret = []byte("test secret")
	tokens, err := auth.New(s, acfg, now)
	if err != nil {
		t.Fatal(err)
	}
	a := &api{t: t, app: "testapp", store: s, tokens: tokens}
	a.admin = a.newApp(a.app)
	core := delivery.New(dcfg, s, delivery.NewLocalBus(nil), quiet())
	t.Cleanup(core.Close)
	api := admin.New(cfg, core, tokens, nil, quiet())
	t.Cleanup(api.Close) // before core.Close: a broadcast may still be sending
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

// newApp stores an app and returns an admin token of it.
func (a *api) newApp(id string) string {
	a.t.Helper()
	ctx := context.Background()
	if err := a.store.CreateApp(ctx, imgate.App{ID: id, Name: id, CreatedAt: time.UnixMilli(time.Now().UnixMilli())}); err != nil {
		a.t.Fatal(err)
	}
	raw, _, err := a.tokens.IssueAdmin(ctx, id)
	if err != nil {
		a.t.Fatal(err)
	}
	return raw
}

// reply is a decoded envelope.
type reply struct {
	Code    int             `json:"code"`
	Data    json.RawMessage `json:"data"`
	Message *string         `json:"message"`
	Cursor  string          `json:"cursor"`
	Version *int64          `json:"version"`
	status  int
	raw     string
}

// h is a set of request headers.
type h map[string]string

// as returns the headers of the test app with the token; with a user id
// also the user_id header.
func (a *api) as(token string, userID ...int64) h {
	hs := h{"app_id": a.app, "access-token": token}
	if len(userID) > 0 {
		hs["user_id"] = jsonString(userID[0])
	}
	return hs
}

// do sends a request; body may be nil, a string (sent as is) or a value
// encoded as JSON.
func (a *api) do(method, path string, hs h, body any) reply {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hs {
		req.Header[k] = []string{v} // MaxIM's header names are lower case with underscores: send them as they are
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		a.t.Fatalf("%s %s: answer is not an envelope: %v: %s", method, path, err, raw)
	}
	r.status, r.raw = resp.StatusCode, string(raw)
	return r
}

// ok sends a request that must succeed and decodes its data into out (if
// not nil).
func (a *api) ok(method, path string, hs h, body, out any) reply {
	a.t.Helper()
	r := a.do(method, path, hs, body)
	if r.Code != 200 || r.status != 200 {
		a.t.Fatalf("%s %s: got HTTP %d %s, want code 200", method, path, r.status, r.raw)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			a.t.Fatalf("%s %s: data %s: %v", method, path, r.Data, err)
		}
	}
	return r
}

// fails sends a request that must fail with the code, as HTTP 200.
func (a *api) fails(code int, method, path string, hs h, body any) reply {
	a.t.Helper()
	r := a.do(method, path, hs, body)
	if r.Code != code || r.status != 200 {
		a.t.Fatalf("%s %s: got HTTP %d %s, want code %d", method, path, r.status, r.raw, code)
	}
	if r.Message == nil || *r.Message == "" {
		a.t.Fatalf("%s %s: error %d has no message: %s", method, path, code, r.raw)
	}
	return r
}

// user registers a user with password "pw" and returns its id and a token.
func (a *api) user(name string) (int64, string) {
	a.t.Helper()
	var reg struct {
		UserID int64 `json:"user_id"`
	}
	a.ok("POST", "/user/register/v2", h{"app_id": a.app}, map[string]string{"username": name, "password": "pw"}, &reg)
	var tok struct {
		Token string `json:"token"`
	}
	a.ok("POST", "/token/user", h{"app_id": a.app}, map[string]string{"name": name, "password": "pw"}, &tok)
	return reg.UserID, tok.Token
}

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}
