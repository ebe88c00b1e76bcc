package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/admin"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/storage/embedded"
)

// fzMaxFrame is the gateway's frame limit in these tests: small, so that
// fuzzed frames reach it.
const fzMaxFrame = 4096

// fzCloseCodes are the close codes a session may end with after a bad
// frame: malformed (1007), too big (1009), login refused (4002), kicked
// (4003), idle (4004), slow (4005).
var fzCloseCodes = map[int]bool{1007: true, 1009: true, 4002: true, 4003: true, 4004: true, 4005: true}

// fzProbeBase starts the uids of the SYNC probes that tell a live session;
// no user has such an id.
const fzProbeBase = 1 << 60

// fzFrame is a binary frame carrying msg as the command's payload.
func fzFrame(tb testing.TB, f *xsync.Frame, msg proto.Message) []byte {
	tb.Helper()
	if msg != nil {
		payload, err := proto.Marshal(msg)
		if err != nil {
			tb.Fatal(err)
		}
		f.Payload = payload
	}
	data, err := proto.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// fzCase is a frame and what the server must make of it: stay usable
// (close 0) or close with the code.
type fzCase struct {
	name  string
	data  []byte
	close int
}

func fzCases(tb testing.TB) []fzCase {
	sync := &xsync.SyncUL{Xid: &xsync.XID{Uid: 5}, Key: 3, IsFullSync: true, FullSyncNum: 20}
	return []fzCase{
		{"empty message is an UNREAD", []byte{}, 0},
		{"UNREAD", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_UNREAD}, &xsync.UnreadUL{}), 0},
		{"SYNC pull", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC}, sync), 0},
		{"SYNC send", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC}, &xsync.SyncUL{Meta: &xsync.Meta{
			Id: 9, To: &xsync.XID{Uid: 2}, Ns: xsync.Meta_MESSAGE, Payload: []byte("\x08\x01")}}), 0},
		{"SYNC without xid", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC}, &xsync.SyncUL{}), 0},
		{"NOTICE from a client", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_NOTICE}, &xsync.Notice{Xid: &xsync.XID{Uid: 1}}), 0},
		{"PROVISION again", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_PROVISION}, &xsync.Provision{
			Xid: &xsync.XID{Uid: 1}, Token: "garbage", OsType: xsync.Provision_WEB}), 0},
		{"V2 frame with tag and checksum", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC, Vsn: xsync.Frame_XSYNC_V2,
			CheckSum: 7, Tag: "t"}, sync), 0},
		{"unknown fields", append(fzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC}, sync), 0xf8, 0x01, 0x01), 0},
		{"garbage", []byte{0xff, 0xff, 0xff}, 1007},
		{"text", []byte("not protobuf at all"), 1007},
		{"truncated", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC}, sync)[:5], 1007},
		{"unknown command", fzFrame(tb, &xsync.Frame{Command: 9}, sync), 1007},
		{"negative command", fzFrame(tb, &xsync.Frame{Command: -1}, sync), 1007},
		{"zlib", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC, CompressMethod: xsync.Frame_ZLIB}, sync), 1007},
		{"encrypted", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_PROVISION, EncryptMethod: xsync.Frame_AES_CBC_128,
			EncryptKey: []byte("k")}, &xsync.Provision{}), 1007},
		{"bad payload", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC, Payload: []byte{0x0a, 0xff}}, nil), 1007},
		{"payload not UTF-8", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_PROVISION, Payload: []byte("\x32\x01\xff")}, nil), 1007},
		{"too big", fzFrame(tb, &xsync.Frame{Command: xsync.Frame_SYNC, Payload: make([]byte, fzMaxFrame)}, nil), 1009},
	}
}

// fzEnv is one gateway with a user logged in on one connection, which
// the fuzz target reuses while the server keeps it open.
type fzEnv struct {
	http  *httptest.Server
	ws    string
	store imgate.Store
	core  *delivery.Core
	uid   uint64
	token string
	conn  *client.Conn
	probe uint64
}

// newFzEnv starts a REST API and a gateway over an embedded store in dir
// and registers a user, as start and s.user do, without a *testing.T.
func newFzEnv(dir string) (*fzEnv, error) {
	ctx := context.Background()
	store, err := embedded.Open(ctx, embedded.Config{Dir: dir}, nil)
	if err != nil {
		return nil, err
	}
	tokens, err := auth.New(store, auth.Config{Secret: []byte("secret")}, nil)
	if err != nil {
		store.Close()
		return nil, err
	}
	if err := store.CreateApp(ctx, imgate.App{ID: "app", Name: "app", CreatedAt: time.Now()}); err != nil {
		store.Close()
		return nil, err
	}
	hub := gateway.NewHub()
	core := delivery.New(delivery.Config{}, store, delivery.NewLocalBus(hub), quiet())
	mux := http.NewServeMux()
	mux.Handle("GET /ws", gateway.New(gateway.Config{MaxFrameBytes: fzMaxFrame}, core, tokens, hub, quiet()))
	mux.Handle("/", admin.New(admin.Config{PasswordCost: 4}, core, tokens, hub, quiet()))
	e := &fzEnv{http: httptest.NewServer(mux), store: store, core: core, probe: fzProbeBase}
	e.ws = "ws" + strings.TrimPrefix(e.http.URL, "http") + "/ws"
	if _, err := e.rest("/user/register/v2", `{"username":"fuzz","password":"pw"}`); err != nil {
		e.close()
		return nil, err
	}
	var tok struct {
		Token  string `json:"token"`
		UserID uint64 `json:"user_id"`
	}
	data, err := e.rest("/token/user", `{"name":"fuzz","password":"pw"}`)
	if err == nil {
		err = json.Unmarshal(data, &tok)
	}
	if err != nil || tok.Token == "" {
		e.close()
		return nil, fmt.Errorf("token: %s: %v", data, err)
	}
	e.uid, e.token = tok.UserID, tok.Token
	return e, nil
}

func (e *fzEnv) rest(path, body string) (json.RawMessage, error) {
	req, _ := http.NewRequest("POST", e.http.URL+path, strings.NewReader(body))
	req.Header["app_id"] = []string{"app"}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || env.Code != 200 {
		return nil, fmt.Errorf("%s: %s", path, raw)
	}
	return env.Data, nil
}

func (e *fzEnv) close() {
	if e.conn != nil {
		e.conn.Close()
	}
	e.http.Close()
	e.core.Close()
	e.store.Close()
}

// session returns the logged-in connection, logging in again when the
// last one was closed. Every login is the same device.
func (e *fzEnv) session(ctx context.Context) (*client.Conn, error) {
	if e.conn != nil {
		return e.conn, nil
	}
	c, err := client.Dial(ctx, e.ws, client.Options{})
	if err != nil {
		return nil, err
	}
	p, err := c.Login(ctx, e.uid, 0, e.token, "fuzz_guid")
	if err != nil || p.Status.GetCode() != xsync.Status_OK {
		c.Close()
		return nil, fmt.Errorf("login: %v, %v", p, err)
	}
	e.conn = c
	return c, nil
}

// send sends data as one binary message and reports what became of the
// session: 0 when it still answers, else the close code it ended with.
// A session that neither answers nor closes in time fails the test.
func (e *fzEnv) send(t *testing.T, data []byte) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The probe, a SYNC pull of a conversation nobody else uses, follows
	// the fuzzed frame: its answer shows the session survived the frame,
	// even one (NOTICE) that gets no answer of its own.
	e.probe++
	probe := e.probe
	// A server that closes at once may reset the connection under the
	// writes; what counts is what the reads then find.
	sendErr := c.SendRaw(ctx, data)
	if sendErr == nil {
		sendErr = c.Send(ctx, xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: probe}})
	}
	var got []string
	for {
		cmd, msg, err := c.Recv(ctx)
		if err != nil {
			e.conn = nil
			c.Close()
			code := client.CloseStatus(err)
			switch {
			case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
				t.Fatalf("frame %q: the session neither answered nor closed in time (send: %v; read %v)", data, sendErr, got)
			case code == -1:
				t.Fatalf("frame %q: the connection broke without a close code: %v (send: %v; read %v)", data, err, sendErr, got)
			case !fzCloseCodes[code]:
				t.Fatalf("frame %q: closed with %d (%v), want one of 1007, 1009, 4002-4005; read %v", data, code, err, got)
			}
			return code
		}
		got = append(got, fmt.Sprintf("%s %v", cmd, msg))
		if dl, ok := msg.(*xsync.SyncDL); ok && dl.Xid.GetUid() == probe {
			if dl.Status.GetCode() != xsync.Status_OK {
				t.Fatalf("frame %q: the probe after it failed: %v", data, dl)
			}
			return 0
		}
	}
}

// TestSessionFrames checks what a logged-in session makes of each kind
// of good and bad frame.
func TestSessionFrames(t *testing.T) {
	e, err := newFzEnv(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	for _, c := range fzCases(t) {
		t.Run(c.name, func(t *testing.T) {
			if got := e.send(t, c.data); got != c.close {
				t.Errorf("frame %q: got close %d, want %d (0: still usable)", c.data, got, c.close)
			}
		})
	}
}

// FuzzSessionFrames sends a fuzzed binary message on a logged-in session:
// the session must stay usable or close with a protocol code, in time.
// One server and user serve the whole fuzz process; a session is logged
// in again only after the server closed the last one.
func FuzzSessionFrames(f *testing.F) {
	for _, c := range fzCases(f) {
		f.Add(c.data)
	}
	dir := f.TempDir()
	var (
		once     sync.Once
		env      *fzEnv
		setupErr error
	)
	f.Cleanup(func() {
		if env != nil {
			env.close()
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		once.Do(func() {
			d, err := os.MkdirTemp(dir, "store")
			if err == nil {
				env, err = newFzEnv(d)
			}
			setupErr = err
		})
		if setupErr != nil {
			t.Fatal(setupErr)
		}
		if t.Failed() {
			return
		}
		env.send(t, data)
	})
}
