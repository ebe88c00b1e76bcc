package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
)

// TestAppStatus freezes an app with the CLI while a server runs: its REST
// calls answer 40003 once the server's app cache expires, its logins are
// refused with APP_FROZEN at once (the login reads the app's status), and
// discovery reports it; setting it back to normal lets both in again.
func TestAppStatus(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	c.must("app", "create", "--id", "statusapp", "--name", "s")
	url, _, stop := c.serve("--token-cache-ttl", "100ms")
	defer stop()
	app := map[string]string{"app_id": "statusapp"}
	if code, data := post(t, "POST", url+"/user/register/v2", app, `{"username":"una","password":"pw"}`); code != 200 {
		t.Fatalf("register: %d %s", code, data)
	}
	_, data := post(t, "POST", url+"/token/user", app, `{"name":"una","password":"pw"}`)
	var tok struct {
		Token  string `json:"token"`
		UserID uint64 `json:"user_id"`
	}
	if err := json.Unmarshal(data, &tok); err != nil || tok.Token == "" {
		t.Fatalf("token: %s", data)
	}
	settings := func() int {
		code, _ := post(t, "GET", url+"/user/settings", map[string]string{"app_id": "statusapp", "access-token": tok.Token}, "")
		return code
	}
	login := func() xsync.Status_ErrorCode {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := client.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/ws", client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		p, err := conn.Login(ctx, tok.UserID, 0, tok.Token, "g")
		if err != nil {
			t.Fatal(err)
		}
		return p.GetStatus().GetCode()
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s", what)
			}
		}
	}
	if code := settings(); code != 200 {
		t.Fatalf("settings of a normal app: %d", code)
	}

	c.must("app", "status", "--id", "statusapp", "--status", "frozen")
	if got := login(); got != xsync.Status_APP_FROZEN {
		t.Errorf("login to a frozen app: %s, want APP_FROZEN", got)
	}
	eventually("REST calls of the frozen app answer 40003", func() bool { return settings() == imgate.CodeAppAbnormal })
	if _, dns := post(t, "GET", url+"/v2/app_dns?app_id=statusapp", nil, ""); !strings.Contains(string(dns), `"frozen"`) {
		t.Errorf("discovery of a frozen app: %s, want its status", dns)
	}

	c.must("app", "status", "--id", "statusapp", "--status", "normal")
	eventually("REST calls answer again", func() bool { return settings() == 200 })
	if got := login(); got != xsync.Status_OK {
		t.Errorf("login once normal again: %s", got)
	}
	if _, err := c.run("app", "status", "--id", "statusapp", "--status", "asleep"); err == nil {
		t.Error("an unknown status was taken")
	}
	if _, err := c.run("app", "status", "--id", "nosuchapp", "--status", "banned"); err == nil {
		t.Error("the status of an unknown app was set")
	}
}
