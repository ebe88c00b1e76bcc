package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/internal/pgtest"
)

// logs collects what a command writes to stderr, for tests to wait on.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await polls the logs until re matches and returns its first group.
func (l *logs) await(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(l.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("logs never matched %s:\n%s", re, l.String())
	return ""
}

// cli runs imgate commands against one store.
type cli struct {
	t   *testing.T
	env map[string]string
}

func (c cli) getenv(name string) string { return c.env[name] }

// run runs a command to completion and returns its stdout.
func (c cli) run(args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), args, c.getenv, &out, io.Discard)
	return out.String(), err
}

func (c cli) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("imgate %s: %v", strings.Join(args, " "), err)
	}
	return out
}

var listening = regexp.MustCompile(`imgate listening"? addr=(\S+)`)

// serve starts imgate serve on a free port; stop ends it and checks that
// it shut down cleanly.
func (c cli) serve(args ...string) (url string, l *logs, stop func()) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l = &logs{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--password-cost", "4"}, args...), c.getenv, io.Discard, l)
	}()
	addr := l.await(c.t, listening)
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			c.t.Errorf("serve ended with %v", err)
		}
	}
	return "http://" + addr, l, stop
}

// post sends the request with MaxIM's header names as they are and
// returns the envelope's code and data.
func post(t *testing.T, method, url string, headers map[string]string, body string) (int, json.RawMessage) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return env.Code, env.Data
}

func TestServeEmbedded(t *testing.T) {
	testServe(t, cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}})
}

func TestServePostgres(t *testing.T) {
	testServe(t, cli{t: t, env: map[string]string{"IMGATE_POSTGRES": pgtest.DSN(t)}})
}

// testServe walks the acceptance path: create the quick start's
// app, serve, register the seed's user, and check the basic error codes;
// then restart and find the data still there.
func testServe(t *testing.T, c cli) {
	var creds struct {
		AppID       string `json:"app_id"`
		AccessToken string `json:"access_token"`
	}
	out := c.must("app", "create", "--id", "welovemaxim", "--name", "demo")
	if err := json.Unmarshal([]byte(out), &creds); err != nil || creds.AppID != "welovemaxim" || creds.AccessToken == "" || strings.Count(out, "\n") != 1 {
		t.Fatalf("app create printed %q (%v), want one JSON line with app_id and access_token", out, err)
	}
	if _, err := c.run("app", "create", "--id", "welovemaxim", "--name", "again"); err == nil {
		t.Errorf("creating app welovemaxim twice succeeded")
	}

	url, _, stop := c.serve()
	app := map[string]string{"app_id": "welovemaxim"}
	code, data := post(t, "POST", url+"/user/register/v2", app, `{ "username": "test_user", "password": "asd"}`)
	var reg struct {
		UserID int64 `json:"user_id"`
	}
	if err := json.Unmarshal(data, &reg); code != 200 || err != nil || reg.UserID <= 0 {
		t.Fatalf("seed register: code %d data %s", code, data)
	}
	if code, _ := post(t, "POST", url+"/user/register/v2", app, `{ "username": "test_user", "password": "asd"}`); code != 10004 {
		t.Errorf("registering test_user again: code %d, want 10004", code)
	}
	if code, _ := post(t, "GET", url+"/user/settings", app, ""); code != 10003 {
		t.Errorf("settings without token: code %d, want 10003", code)
	}
	if code, _ := post(t, "GET", url+"/user/settings", map[string]string{"app_id": "welovemaxim", "access-token": "bad"}, ""); code != 10008 {
		t.Errorf("settings with a bad token: code %d, want 10008", code)
	}
	admin := map[string]string{"app_id": "welovemaxim", "access-token": creds.AccessToken, "user_id": jsonInt(reg.UserID)}
	if code, data := post(t, "GET", url+"/user/settings", admin, ""); code != 200 {
		t.Errorf("settings as admin acting as the user: code %d %s", code, data)
	}
	// A device logs in over the WebSocket gateway with a user token.
	var tok struct {
		Token string `json:"token"`
	}
	_, data = post(t, "POST", url+"/token/user", app, `{"name":"test_user","password":"asd"}`)
	json.Unmarshal(data, &tok)
	conn, err := client.Dial(context.Background(), "ws"+strings.TrimPrefix(url, "http")+"/ws", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := conn.Login(context.Background(), uint64(reg.UserID), 0, tok.Token, "")
	if err != nil || p.Status.GetCode() != xsync.Status_OK {
		t.Errorf("WebSocket login: %v, %v", p, err)
	}
	if code, data := post(t, "GET", url+"/user/online_status", admin, ""); code != 200 || !strings.Contains(string(data), "true") {
		t.Errorf("online_status with a device logged in: %d %s", code, data)
	}
	conn.Close()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		resp, err := http.Get(url + path)
		if err != nil || resp.StatusCode != want {
			t.Errorf("GET %s: %v %v, want %d", path, resp, err, want)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	stop()

	// The data outlives the process, and the generated secret with it:
	// the admin token still works after a restart.
	url, _, stop = c.serve()
	defer stop()
	if code, data := post(t, "POST", url+"/token/user", app, `{"name":"test_user","password":"asd"}`); code != 200 {
		t.Errorf("login after restart: code %d %s", code, data)
	}
	if code, data := post(t, "GET", url+"/user/settings", admin, ""); code != 200 {
		t.Errorf("admin token after restart: code %d %s", code, data)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestFirstApp(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	url, l, stop := c.serve()
	defer stop()
	appID := l.await(t, regexp.MustCompile(`app_id=(\w+)`))
	token := l.await(t, regexp.MustCompile(`access-token=(\S+)`))
	if len(appID) != 12 || strings.ToLower(appID) != appID {
		t.Errorf("generated app id %q, want 12 lowercase letters", appID)
	}
	code, data := post(t, "POST", url+"/user/register/batch", map[string]string{"app_id": appID, "access-token": token},
		`{"list":[{"username":"first","password":"pw"}]}`)
	if code != 200 || !strings.Contains(string(data), `"success":true`) {
		t.Errorf("batch register with the logged admin token: code %d %s", code, data)
	}
	if out := c.must("app", "list"); !strings.Contains(out, `"app_id":"`+appID+`"`) {
		t.Errorf("app list = %q, want the generated app", out)
	}
}

func TestTokenCommands(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	c.must("app", "create", "--id", "welovemaxim", "--name", "demo")
	var created struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(c.must("token", "create", "--app", "welovemaxim")), &created); err != nil || created.AccessToken == "" {
		t.Fatalf("token create: %v", err)
	}
	if _, err := c.run("token", "create", "--app", "nosuchapp"); err == nil {
		t.Errorf("token create for an unknown app succeeded")
	}
	const seed = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJhcHAiOiJkcGJkdmVrZmVjYm8iLCJzdWIiOiIyMCIsImNsdXN0ZXIiOjAsInJvbGUiOjIsImlhdCI6MTU2Nzk5NzQwOH0.U-iFpEwprrkf-mFkhHN_CWmF5nkBbRQLTjttN4Qlkzw3ET1Zke9OZdjutm90KSyDs9jjYvUSAGGsWVjLmDZlkg"
	c.must("token", "import", "--app", "welovemaxim", seed)

	url, _, stop := c.serve("--token-cache-ttl", "100ms")
	defer stop()
	batch := `{"list":[{"username":"u1","password":"pw"}]}`
	for _, tok := range []string{created.AccessToken, seed} {
		if code, data := post(t, "POST", url+"/user/register/batch", map[string]string{"app_id": "welovemaxim", "access-token": tok}, batch); code != 200 {
			t.Errorf("batch with token %.12s…: code %d %s", tok, code, data)
		}
		batch = strings.ReplaceAll(batch, "u1", "u2")
	}
	// Revoking from the CLI reaches a running server once its cache
	// expires; the test server trusts records for 100ms.
	c.must("token", "revoke", created.AccessToken)
	headers := map[string]string{"app_id": "welovemaxim", "access-token": created.AccessToken}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := post(t, "POST", url+"/user/register/batch", headers, `{"list":[{"username":"u3","password":"pw"}]}`)
		if code == 10008 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked token still answers code %d", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := c.run("token", "revoke", "not-a-token"); err == nil {
		t.Errorf("revoking an unknown token succeeded")
	}
}

func TestBadConfig(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t), "IMGATE_PASSWORD_COST": "lots"}}
	if _, err := c.run("serve"); err == nil || !strings.Contains(err.Error(), "IMGATE_PASSWORD_COST") {
		t.Errorf("serve with a malformed IMGATE_PASSWORD_COST: %v, want an error naming it", err)
	}
	if _, err := c.run("frobnicate"); err == nil {
		t.Errorf("an unknown command succeeded")
	}
	if _, err := c.run("app", "create"); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("app create without --name: %v, want an error", err)
	}
	c.must("app", "create", "--id", "limited", "--name", "l", "--group-capacity", "7", "--kick-limit", "2")
	if out := c.must("app", "list"); !strings.Contains(out, `"group_capacity":7`) || !strings.Contains(out, `"kick_limit":2`) ||
		!strings.Contains(out, `"groups_owned":100`) {
		t.Errorf("app list after creating a limited app = %q, want its limits and the defaults", out)
	}
	out := c.must("migrate")
	if !strings.Contains(out, `"schema_version":`) {
		t.Errorf("migrate printed %q", out)
	}
}

// dataDir is a data dir for the embedded store that does not exist yet,
// so that imgate creates it its owner's only (t.TempDir is 0755, which
// imgate refuses).
func dataDir(t *testing.T) string { return filepath.Join(t.TempDir(), "data") }
