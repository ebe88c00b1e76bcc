package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/admin"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/embedded"
	"github.com/imgate/imgate/storage/postgres"
)

// server is a REST API and a gateway over one store, as imgate serve
// wires them.
type server struct {
	t      *testing.T
	http   *httptest.Server
	ws     string // ws:// URL of the gateway
	gw     *gateway.Server
	hub    *gateway.Hub
	api    *admin.Server
	core   *delivery.Core
	store  imgate.Store
	tokens *auth.Tokens
	admin  string // admin token of app "app"
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func start(t *testing.T, store imgate.Store, cfg gateway.Config) *server {
	t.Helper()
	if err := store.CreateApp(context.Background(), imgate.App{ID: "app", Name: "app", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return restart(t, store, cfg)
}

// restart serves a store whose app exists, as imgate serve does after a
// restart.
func restart(t *testing.T, store imgate.Store, cfg gateway.Config) *server {
	t.Helper()
	return restartAuth(t, store, cfg, auth.Config{})
}

// restartAuth is restart with the tokens' configuration (its Secret is
// the tests' own).
func restartAuth(t *testing.T, store imgate.Store, cfg gateway.Config, ac auth.Config) *server {
	t.Helper()
	return restartBus(t, store, cfg, ac, nil)
}

// restartBus is restartAuth with the node's bus wrapped by wrap (nil:
// the bus as it is).
func restartBus(t *testing.T, store imgate.Store, cfg gateway.Config, ac auth.Config, wrap func(delivery.Bus) delivery.Bus) *server {
	t.Helper()
	ctx := context.Background()
	ac.Secret = []byte("secret")
	tokens, err := auth.New(store, ac, nil)
	if err != nil {
		t.Fatal(err)
	}
	adminTok, _, err := tokens.IssueAdmin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	hub := gateway.NewHub()
	var bus delivery.Bus = delivery.NewLocalBus(hub)
	if wrap != nil {
		bus = wrap(bus)
	}
	core := delivery.New(delivery.Config{}, store, bus, quiet())
	gw := gateway.New(cfg, core, tokens, hub, quiet())
	mux := http.NewServeMux()
	mux.Handle("GET /ws", gw)
	api := admin.New(admin.Config{PasswordCost: 4}, core, tokens, hub, quiet())
	mux.Handle("/socket.io/", gw.SocketIO())
	mux.Handle("GET /{$}", gw.Upgrades(api))
	mux.Handle("/", api)
	srv := httptest.NewServer(mux)
	s := &server{t: t, http: srv, ws: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", gw: gw, hub: hub, api: api, core: core, store: store, tokens: tokens, admin: adminTok}
	t.Cleanup(s.stop)
	return s
}

// stop shuts the server down as SIGTERM does and closes its store.
func (s *server) stop() {
	s.gw.Shutdown()
	s.http.Close()
	s.api.Close()
	s.core.Close()
	s.store.Close()
}

func embeddedServer(t *testing.T, cfg gateway.Config) *server {
	s, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return start(t, s, cfg)
}

// rest calls the REST API and returns the envelope's code and data.
func (s *server) rest(method, path string, headers map[string]string, body string) (int, json.RawMessage) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.http.URL+path, strings.NewReader(body))
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &env); err != nil {
		s.t.Fatalf("%s %s: %s", method, path, raw)
	}
	return env.Code, env.Data
}

// user registers a user and returns its id and a token.
func (s *server) user(name string) (uint64, string) {
	s.t.Helper()
	app := map[string]string{"app_id": "app"}
	code, data := s.rest("POST", "/user/register/v2", app, `{"username":"`+name+`","password":"pw"}`)
	if code != 200 {
		s.t.Fatalf("register %s: %d %s", name, code, data)
	}
	var tok struct {
		Token  string `json:"token"`
		UserID uint64 `json:"user_id"`
	}
	_, data = s.rest("POST", "/token/user", app, `{"name":"`+name+`","password":"pw"}`)
	if err := json.Unmarshal(data, &tok); err != nil || tok.Token == "" {
		s.t.Fatalf("token of %s: %s", name, data)
	}
	return tok.UserID, tok.Token
}

func (s *server) dial(opts client.Options) *client.Conn {
	s.t.Helper()
	c, err := client.Dial(context.Background(), s.ws, opts)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// login dials and logs in, failing the test unless the server says OK.
func (s *server) login(uid uint64, sn uint32, token, guid string) (*client.Conn, uint32) {
	s.t.Helper()
	c := s.dial(client.Options{})
	p, err := c.Login(ctx(s.t), uid, sn, token, guid)
	if err != nil || p.Status.GetCode() != xsync.Status_OK {
		s.t.Fatalf("login of %d: %v, %v", uid, p, err)
	}
	if p.Xid.GetUid() != uid || p.Xid.GetDeviceSN() == 0 {
		s.t.Fatalf("login answered xid %v, want uid %d and a deviceSN", p.Xid, uid)
	}
	return c, p.Xid.GetDeviceSN()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// closed reads until the server closes and returns the close code and
// every message read on the way.
func closed(t *testing.T, c *client.Conn) (int, []any) {
	t.Helper()
	var got []any
	for {
		_, msg, err := c.Recv(ctx(t))
		if err != nil {
			return client.CloseStatus(err), got
		}
		got = append(got, msg)
	}
}

// userNotice finds the UserNotice type in messages read from a session.
func userNotice(t *testing.T, msgs []any) xsync.UserNotice_Type {
	t.Helper()
	for _, m := range msgs {
		dl, ok := m.(*xsync.SyncDL)
		if !ok {
			continue
		}
		for _, meta := range dl.Metas {
			if meta.Ns == xsync.Meta_USER_NOTICE {
				var n xsync.UserNotice
				if err := protoUnmarshal(meta.Payload, &n); err != nil {
					t.Fatal(err)
				}
				return n.Type
			}
		}
	}
	return xsync.UserNotice_UNKNOWN
}

// online asks the REST API whether the user is online.
func (s *server) online(uid uint64) bool {
	s.t.Helper()
	code, data := s.rest("GET", "/user/online_status", map[string]string{"app_id": "app", "access-token": s.admin, "user_id": jsonNum(uid)}, "")
	if code != 200 {
		s.t.Fatalf("online_status: %d %s", code, data)
	}
	return bytes.Contains(data, []byte(`"online":true`))
}

// eventually polls cond until it holds or a few seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

func TestLogin(t *testing.T) {
	for name, s := range map[string]func(t *testing.T) *server{
		"embedded": func(t *testing.T) *server { return embeddedServer(t, gateway.Config{}) },
		"postgres": func(t *testing.T) *server {
			st, err := postgres.Open(context.Background(), postgres.Config{DSN: pgtest.DSN(t)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return start(t, st, gateway.Config{})
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := s(t)
			uid, tok := s.user("alice")
			// MaxIM's SDK sends a random serial number on its first login;
			// the server assigns its own, which the SDK then reuses.
			c, sn := s.login(uid, 1000000007, tok, "alice_guid1")
			if sn == 1000000007 {
				t.Errorf("the client's random deviceSN was kept")
			}
			if !s.online(uid) {
				t.Errorf("online_status false while a device is logged in")
			}
			if err := c.Send(ctx(t), xsync.Frame_UNREAD, &xsync.UnreadUL{}); err != nil {
				t.Fatal(err)
			}
			if cmd, msg, err := c.Recv(ctx(t)); err != nil || cmd != xsync.Frame_UNREAD || msg.(*xsync.UnreadDL).Status.GetCode() != xsync.Status_OK {
				t.Errorf("UNREAD answered %v %v %v", cmd, msg, err)
			}
			c.Close()
			eventually(t, "offline after close", func() bool { return !s.online(uid) })
			_, again := s.login(uid, sn, tok, "alice_guid1")
			if again != sn {
				t.Errorf("reconnect with deviceSN %d got %d", sn, again)
			}
			code, data := s.rest("GET", "/user/device/list", map[string]string{"app_id": "app", "access-token": tok}, "")
			if code != 200 || !bytes.Contains(data, []byte(`"device_sn":`+jsonNum(uint64(sn)))) || !bytes.Contains(data, []byte(`"platform":5`)) {
				t.Errorf("device list after login: %d %s", code, data)
			}
		})
	}
}

func TestLoginRefused(t *testing.T) {
	s := embeddedServer(t, gateway.Config{MaxDevices: 2})
	uid, tok := s.user("bob")
	frozen, ftok := s.user("frozen")
	s.rest("PUT", "/user/disable", map[string]string{"app_id": "app", "access-token": s.admin}, `{"list":[`+jsonNum(frozen)+`]}`)
	other, _ := s.user("other")
	for _, c := range []struct {
		name  string
		uid   uint64
		token string
		want  xsync.Status_ErrorCode
	}{
		{"bad token", uid, "garbage", xsync.Status_INVALID_TOKEN},
		{"admin token", uid, s.admin, xsync.Status_UNAUTHORIZED},
		{"another user's token", other, tok, xsync.Status_UNAUTHORIZED},
		{"frozen user", frozen, ftok, xsync.Status_USER_FROZEN},
		{"no credentials", uid, "", xsync.Status_UNAUTHORIZED},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := s.dial(client.Options{})
			p, err := conn.Login(ctx(t), c.uid, 0, c.token, "")
			if err != nil || p.Status.GetCode() != c.want {
				t.Fatalf("got %v, %v; want %s", p, err, c.want)
			}
			if code, _ := closed(t, conn); code != 4002 {
				t.Errorf("close code %d, want 4002", code)
			}
		})
	}
	t.Run("too many devices", func(t *testing.T) {
		s.login(uid, 0, tok, "g1")
		s.login(uid, 0, tok, "g2")
		conn := s.dial(client.Options{})
		p, err := conn.Login(ctx(t), uid, 0, tok, "g3")
		if err != nil || p.Status.GetCode() != xsync.Status_TOO_MANY_DEVICES {
			t.Fatalf("third device: %v, %v; want TOO_MANY_DEVICES", p, err)
		}
	})
	t.Run("first frame not PROVISION", func(t *testing.T) {
		conn := s.dial(client.Options{})
		if err := conn.Send(ctx(t), xsync.Frame_UNREAD, &xsync.UnreadUL{}); err != nil {
			t.Fatal(err)
		}
		_, msg, err := conn.Recv(ctx(t))
		if p, ok := msg.(*xsync.Provision); err != nil || !ok || p.Status.GetCode() != xsync.Status_UNAUTHORIZED {
			t.Errorf("got %v, %v; want PROVISION with UNAUTHORIZED", msg, err)
		}
	})
}

func TestPasswordLogin(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	uid, _ := s.user("carol")
	c, err := client.Dial(ctx(t), s.ws+"?app_id=app", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p, err := c.LoginPassword(ctx(t), uid, "pw"); err != nil || p.Status.GetCode() != xsync.Status_OK {
		t.Errorf("password login: %v, %v", p, err)
	}
	bad, _ := client.Dial(ctx(t), s.ws+"?app_id=app", client.Options{})
	defer bad.Close()
	if p, err := bad.LoginPassword(ctx(t), uid, "wrong"); err != nil || p.Status.GetCode() != xsync.Status_UNAUTHORIZED {
		t.Errorf("wrong password: %v, %v", p, err)
	}
}

func TestKicks(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	uid, tok := s.user("dave")
	asDave := map[string]string{"app_id": "app", "access-token": s.admin, "user_id": jsonNum(uid)}
	for _, c := range []struct {
		name string
		kick func(sn uint32)
		want xsync.UserNotice_Type
	}{
		{"same device guid", func(uint32) { s.login(uid, 0, tok, "dave_guid") }, xsync.UserNotice_KICK_BY_SAME_DEVICE},
		{"REST kick", func(sn uint32) { s.rest("POST", "/user/kick?device_sn="+jsonNum(uint64(sn)), asDave, "") }, xsync.UserNotice_KICKED_BY_OTHER_DEVICE},
		{"device removed", func(sn uint32) { s.rest("DELETE", "/user/device/remove?device_sn="+jsonNum(uint64(sn)), asDave, "") }, xsync.UserNotice_DEVICE_REMOVED},
		{"password changed", func(uint32) { s.rest("POST", "/user/change_password_admin", asDave, `{"password":"pw"}`) }, xsync.UserNotice_PASSWORD_CHANGED},
		{"frozen", func(uint32) {
			s.rest("PUT", "/user/disable", map[string]string{"app_id": "app", "access-token": s.admin}, `{"list":[`+jsonNum(uid)+`]}`)
		}, xsync.UserNotice_FROZEN},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, tok = s.freshToken("dave")
			conn, sn := s.login(uid, 0, tok, "dave_guid")
			c.kick(sn)
			code, msgs := closed(t, conn)
			if code != 4003 {
				t.Errorf("close code %d, want 4003 (kicked)", code)
			}
			if got := userNotice(t, msgs); got != c.want {
				t.Errorf("user notice %s, want %s", got, c.want)
			}
			s.rest("PUT", "/user/enable", map[string]string{"app_id": "app", "access-token": s.admin}, `{"list":[`+jsonNum(uid)+`]}`)
		})
	}
}

// freshToken logs in over REST again (a kick may have revoked tokens).
func (s *server) freshToken(name string) (uint64, string) {
	s.t.Helper()
	var tok struct {
		Token  string `json:"token"`
		UserID uint64 `json:"user_id"`
	}
	_, data := s.rest("POST", "/token/user", map[string]string{"app_id": "app"}, `{"name":"`+name+`","password":"pw"}`)
	json.Unmarshal(data, &tok)
	return tok.UserID, tok.Token
}

func TestBadFrames(t *testing.T) {
	s := embeddedServer(t, gateway.Config{MaxFrameBytes: 1024})
	uid, tok := s.user("erin")
	t.Run("malformed", func(t *testing.T) {
		c, _ := s.login(uid, 0, tok, "")
		if err := c.SendRaw(ctx(t), []byte{0xff, 0xff, 0xff}); err != nil {
			t.Fatal(err)
		}
		code, msgs := closed(t, c)
		if code != 1007 || len(msgs) != 1 || msgs[0].(*xsync.SyncDL).Status.GetCode() != xsync.Status_PB_PARSER_ERROR {
			t.Errorf("malformed frame: close %d after %v; want PB_PARSER_ERROR then 1007", code, msgs)
		}
	})
	t.Run("oversized", func(t *testing.T) {
		c, _ := s.login(uid, 0, tok, "")
		c.SendRaw(ctx(t), bytes.Repeat([]byte{1}, 4096))
		if code, _ := closed(t, c); code != 1009 {
			t.Errorf("oversized frame: close %d, want 1009", code)
		}
	})
	t.Run("before login", func(t *testing.T) {
		c := s.dial(client.Options{})
		c.SendRaw(ctx(t), []byte("not protobuf at all"))
		if code, _ := closed(t, c); code != 1007 {
			t.Errorf("garbage before login: close %d, want 1007", code)
		}
	})
}

func TestTimeouts(t *testing.T) {
	s := embeddedServer(t, gateway.Config{LoginTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	uid, tok := s.user("fay")
	t.Run("login", func(t *testing.T) {
		c := s.dial(client.Options{})
		if code, _ := closed(t, c); code != 4001 {
			t.Errorf("silent connection: close %d, want 4001", code)
		}
	})
	t.Run("idle", func(t *testing.T) {
		c, _ := s.login(uid, 0, tok, "")
		if code, _ := closed(t, c); code != 4004 {
			t.Errorf("idle session: close %d, want 4004", code)
		}
	})
}

func TestJSON(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	uid, tok := s.user("gus")
	c := s.dial(client.Options{JSON: true})
	p, err := c.Login(ctx(t), uid, 0, tok, "")
	if err != nil || p.Status.GetCode() != xsync.Status_OK || p.Xid.GetDeviceSN() == 0 {
		t.Fatalf("JSON login: %v, %v", p, err)
	}
	if err := c.Send(ctx(t), xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: 5}}); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Recv(ctx(t)); err != nil || msg.(*xsync.SyncDL).Xid.GetUid() != 5 {
		t.Errorf("JSON sync: %v, %v", msg, err)
	}
}

func TestShutdown(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	uid, tok := s.user("hal")
	c, _ := s.login(uid, 0, tok, "")
	s.gw.Shutdown()
	if code, _ := closed(t, c); code != 1001 {
		t.Errorf("shutdown: close %d, want 1001 (going away)", code)
	}
}

func TestSlowReader(t *testing.T) {
	// A client that sends pulls but never reads the answers is closed as
	// slow once the answers pass the socket's buffers and the queue's
	// bytes, without stalling anyone else; a page bigger than the whole
	// queue still reaches a client that reads.
	s := embeddedServer(t, gateway.Config{QueueBytes: 4096})
	alice, _ := s.user("alice")
	uid, tok := s.user("ivy")
	long := strings.Repeat("x", 1000)
	s.chat(alice, uid, slicesRepeat(long, 20)...)
	slow, _ := s.login(uid, 0, tok, "slow")
	fast, _ := s.login(uid, 0, tok, "fast")
	pull := &xsync.SyncUL{Xid: &xsync.XID{Uid: alice}, IsFullSync: true}
	if dl := s.roundTrip(fast, xsync.Frame_SYNC, pull).(*xsync.SyncDL); len(dl.Metas) != 20 {
		t.Fatalf("a 20 KB page to a reading client: %d metas", len(dl.Metas))
	}
	for i := 0; i < 3000; i++ {
		if err := slow.Send(ctx(t), xsync.Frame_SYNC, pull); err != nil {
			break // closed as slow
		}
	}
	if u := s.roundTrip(fast, xsync.Frame_UNREAD, &xsync.UnreadUL{}).(*xsync.UnreadDL); u.Status.GetCode() != xsync.Status_OK {
		t.Errorf("the other session stalled: %v", u)
	}
	// 4005, or an abrupt close when the socket stayed full past the write
	// timeout (a loaded machine), so that not even the close frame fit.
	if code, _ := closed(t, slow); code != 4005 && code != -1 {
		t.Errorf("slow session: close %d, want 4005", code)
	}
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
