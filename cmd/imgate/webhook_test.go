package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/webhook"
)

// bot is a back-office service written for MaxIM's message callback, as
// MaxIM's connector is: it reads the callback's fields, compares the
// "signature" header with its configured value, and answers a user's
// text message to it through /message/send with the app's admin token.
type bot struct {
	t                      *testing.T
	appID, adminToken, api string
	id                     int64
	signature, secret      string

	mu        sync.Mutex
	refused   int // calls whose signature or HMAC did not match
	callbacks []webhook.Callback
}

func (b *bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if r.Header.Get("signature") != b.signature ||
		webhook.Verify(b.secret, r.Header.Get("X-Imgate-Signature"), body, time.Now(), 5*time.Minute) != nil {
		b.mu.Lock()
		b.refused++
		b.mu.Unlock()
		http.Error(w, "callback signature not match", http.StatusUnauthorized)
		return
	}
	if r.Header.Get("X-Imgate-Event-Type") != "message" {
		return // imgate's own events: not this bot's business
	}
	// The fields MaxIM's connector reads, by their names in the JSON.
	var data struct {
		AppID string `json:"appId"`
		MsgID int64  `json:"msgId"`
		From  struct {
			UID int64 `json:"uid"`
		} `json:"from"`
		To struct {
			UID int64 `json:"uid"`
		} `json:"to"`
		Type    string `json:"type"`
		CType   string `json:"ctype"`
		Content string `json:"content"`
		Ext     string `json:"ext"`
		Config  string `json:"config"`
	}
	if err := json.Unmarshal(body, &data); err != nil {
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	var cb webhook.Callback
	_ = json.Unmarshal(body, &cb)
	b.mu.Lock()
	b.callbacks = append(b.callbacks, cb)
	b.mu.Unlock()
	if data.To.UID != b.id || data.From.UID == b.id || data.Type != "CHAT" || data.CType != "TEXT" || data.AppID != b.appID || data.MsgID == 0 {
		return
	}
	reply, _ := json.Marshal(map[string]any{"type": 1, "from_user_id": b.id, "targets": []int64{data.From.UID},
		"content_type": 0, "content": "echo: " + data.Content + " " + data.Ext})
	req, _ := http.NewRequest("POST", b.api+"/message/send", strings.NewReader(string(reply)))
	req.Header["app_id"] = []string{b.appID}
	req.Header["access-token"] = []string{b.adminToken}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, "send", http.StatusBadGateway)
		return
	}
	resp.Body.Close()
}

// TestWebhookBot: a user's message reaches a bot through MaxIM's
// message callback (signature header and HMAC checked), and the bot's
// answer through /message/send reaches the user's device.
func TestWebhookBot(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_POSTGRES": pgtest.DSN(t)}}
	var creds credentials
	if err := json.Unmarshal([]byte(c.must("app", "create", "--id", "botapp", "--name", "bots")), &creds); err != nil {
		t.Fatal(err)
	}
	b := &bot{t: t, appID: "botapp", adminToken: creds.AccessToken, signature: "sig-123", secret: "hmac-secret"}
	hook := httptest.NewServer(b)
	defer hook.Close()
	c.must("app", "update", "--id", "botapp", "--webhook-url", hook.URL+"/messages",
		"--callback-signature", b.signature, "--webhook-secret", b.secret, "--webhook-events", "all")
	listed := c.must("app", "list")
	if strings.Contains(listed, b.secret) || strings.Contains(listed, b.signature) || !strings.Contains(listed, hook.URL) {
		t.Errorf("app list shows a secret, or not the URL: %s", listed)
	}
	url, _, stop := c.serve("--webhook-backoff", "50ms", "--webhook-poll", "20ms")
	defer stop()
	b.api = url
	app := map[string]string{"app_id": "botapp"}
	users := map[string]sdkUser{}
	for _, name := range []string{"alice", "robot"} {
		_, data := post(t, "POST", url+"/user/register/v2", app, `{"username":"`+name+`","password":"pw"}`)
		var reg struct {
			UserID int64 `json:"user_id"`
		}
		json.Unmarshal(data, &reg)
		var tok struct {
			Token string `json:"token"`
		}
		_, data = post(t, "POST", url+"/token/user", app, `{"name":"`+name+`","password":"pw"}`)
		json.Unmarshal(data, &tok)
		users[name] = sdkUser{id: reg.UserID, token: tok.Token}
	}
	alice := users["alice"]
	b.mu.Lock()
	b.id = users["robot"].id
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dev := device(ctx, t, url, alice)
	if _, err := dev.Send(ctx, &xsync.XID{Uid: uint64(alice.id)}, uint64(b.id), &xsync.MessageBody{
		Type: xsync.MessageBody_CHAT, Ctype: xsync.MessageBody_TEXT, Content: "hello", Ext: `{"k":1}`,
	}); err != nil {
		t.Fatal(err)
	}
	want := `echo: hello {"k":1}`
	err := dev.Wait(ctx, func(v client.View) bool {
		for _, m := range v.Conv(uint64(b.id)) {
			var body xsync.MessageBody
			if proto.Unmarshal(m.Payload, &body) == nil && body.Content == want && m.GetFrom().GetUid() == uint64(b.id) {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("the bot's answer never reached alice's device: %v", err)
	}
	// The bot hears its own answer too, as MaxIM's callback sends every
	// message.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b.mu.Lock()
		n := len(b.callbacks)
		b.mu.Unlock()
		if n >= 2 {
			break
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refused != 0 {
		t.Errorf("%d calls failed the bot's signature checks", b.refused)
	}
	// The bot heard alice's message, then its own answer.
	if len(b.callbacks) < 2 || b.callbacks[0].Content != "hello" || b.callbacks[0].From.UID != alice.id ||
		b.callbacks[1].From.UID != b.id || b.callbacks[1].Content != want {
		t.Errorf("callbacks: %+v", b.callbacks)
	}
}
