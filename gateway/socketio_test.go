package gateway_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

// closeOf reads until the server closes and returns the close status and
// reason and the text messages read on the way.
func (l *sdkLink) closeOf() (websocket.StatusCode, string, []string) {
	l.t.Helper()
	var texts []string
	for {
		typ, data, err := l.ws.Read(ctx(l.t))
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				l.t.Fatalf("read ended with %v, want a close frame", err)
			}
			return ce.Code, ce.Reason, texts
		}
		if typ == websocket.MessageText {
			texts = append(texts, string(data))
		}
	}
}

func TestSocketIOHandshakeRefused(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	upgrade := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	for _, c := range []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		code    int // Engine.IO's error code
	}{
		{"polling", "GET", "/socket.io/?EIO=3&transport=polling", nil, 0},
		{"polling POST", "POST", "/socket.io/?EIO=3&transport=polling", nil, 2},
		{"Engine.IO 4", "GET", "/socket.io/?EIO=4&transport=websocket", upgrade, 5},
		{"no EIO", "GET", "/socket.io/?transport=websocket", upgrade, 5},
		{"resumed session", "GET", "/socket.io/?EIO=3&transport=websocket&sid=abc", upgrade, 1},
		{"no upgrade", "GET", "/socket.io/?EIO=3&transport=websocket", nil, 3},
		{"other path", "GET", "/socket.io/x/?EIO=3&transport=websocket", upgrade, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, s.http.URL+c.path, nil)
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var body struct {
				Code    *int   `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(raw, &body); resp.StatusCode != http.StatusBadRequest || err != nil || body.Code == nil || *body.Code != c.code || body.Message == "" {
				t.Errorf("HTTP %d %s, want 400 with Engine.IO code %d and a reason", resp.StatusCode, raw, c.code)
			}
		})
	}
}

func TestSocketIORefusals(t *testing.T) {
	s := embeddedServer(t, gateway.Config{MaxFrameBytes: 1024})
	uid, tok := s.user("ann")
	host := strings.TrimPrefix(s.http.URL, "http://")
	type msg struct {
		typ  websocket.MessageType
		data string
	}
	text := func(s string) msg { return msg{websocket.MessageText, s} }
	binary := func(s string) msg { return msg{websocket.MessageBinary, s} }
	for _, c := range []struct {
		name string
		send []msg
		want string // in the ERROR packet and the close reason
	}{
		{"other namespace", []msg{text("40/chat")}, `namespace "/chat" is not served`},
		{"event in another namespace", []msg{text(`451-/chat,["frame",{"_placeholder":true,"num":0}]`)}, `namespace "/chat" is not served`},
		{"ack id", []msg{text(`451-7["frame",{"_placeholder":true,"num":0}]`)}, "acknowledgements are not supported"},
		{"ack packet", []msg{text(`431[]`)}, "acknowledgements are not supported"},
		{"text event", []msg{text(`42["frame","CAM="]`)}, "plain events are not supported"},
		{"other event", []msg{text(`451-["message",{"_placeholder":true,"num":0}]`)}, `only the binary event ["frame"`},
		{"two attachments", []msg{text(`452-["frame",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}, `only the binary event ["frame"`},
		{"upgrade packet", []msg{text("5")}, "Engine.IO packet type '5' is not supported"},
		{"noop packet", []msg{text("6")}, "Engine.IO packet type '6' is not supported"},
		{"empty message", []msg{text("")}, "an empty message"},
		{"binary without header", []msg{binary("\x04\x18\x03")}, "without the frame event's header"},
		{"header then text", []msg{text(sioFrameHeader), text("hello")}, "must follow its header"},
		{"attachment without 0x04", []msg{text(sioFrameHeader), binary("\x18\x03")}, "must start with 0x04"},
	} {
		for _, loggedIn := range []bool{false, true} {
			name := c.name
			if loggedIn {
				name += " after login"
			}
			t.Run(name, func(t *testing.T) {
				l := dialSocketIO(t, host)
				if loggedIn {
					l.login(uid, 0, tok, "")
				}
				for _, m := range c.send {
					l.write(m.typ, m.data)
				}
				code, reason, texts := l.closeOf()
				quoted, _ := json.Marshal(c.want)
				want := strings.Trim(string(quoted), `"`)
				errPacket := ""
				for _, tx := range texts {
					if strings.HasPrefix(tx, `44"socket.io: `) {
						errPacket = tx
					}
				}
				if !strings.Contains(errPacket, want) {
					t.Errorf("ERROR packet %q among %q, want one with %s", errPacket, texts, want)
				}
				if code != websocket.StatusProtocolError || !strings.Contains(reason, c.want) {
					t.Errorf("close %d %q, want 1002 with %q", code, reason, c.want)
				}
			})
		}
	}
}

func TestSocketIOHeartbeatAndLeaving(t *testing.T) {
	s := embeddedServer(t, gateway.Config{MaxFrameBytes: 1024})
	uid, tok := s.user("ben")
	host := strings.TrimPrefix(s.http.URL, "http://")
	t.Run("ping", func(t *testing.T) {
		l := dialSocketIO(t, host)
		for ping, pong := range map[string]string{"2": "3", "2probe": "3probe"} {
			l.write(websocket.MessageText, ping)
			if got := l.text(); got != pong {
				t.Errorf("ping %q answered %q, want %q", ping, got, pong)
			}
		}
		l.write(websocket.MessageText, "40") // the default namespace again: ignored
		if p := l.login(uid, 0, tok, ""); p.sn == 0 {
			t.Errorf("no login after a repeated namespace connect")
		}
	})
	t.Run("ping between header and attachment", func(t *testing.T) {
		l := dialSocketIO(t, host)
		l.write(websocket.MessageText, sioFrameHeader)
		l.write(websocket.MessageText, "2")
		l.write(websocket.MessageBinary, "\x04\x18\x03") // Frame{command: PROVISION}, no credentials
		if got := l.text(); got != "3" {
			t.Fatalf("ping between header and attachment answered %q, want 3", got)
		}
		if _, m := l.recv(); m.(*xsync.Provision).Status.GetCode() != xsync.Status_UNAUTHORIZED {
			t.Errorf("an empty PROVISION answered %v", m)
		}
	})
	for _, bye := range []string{"41", "1"} {
		t.Run("client leaves with "+bye, func(t *testing.T) {
			l := dialSocketIO(t, host)
			l.login(uid, 0, tok, "")
			l.write(websocket.MessageText, bye)
			if code, _, _ := l.closeOf(); code != websocket.StatusNormalClosure {
				t.Errorf("close %d after the client's %q, want 1000", code, bye)
			}
		})
	}
	t.Run("malformed frame", func(t *testing.T) {
		l := dialSocketIO(t, host)
		l.login(uid, 0, tok, "")
		l.write(websocket.MessageText, sioFrameHeader)
		l.write(websocket.MessageBinary, "\x04\xff\xff\xff")
		if _, m := l.recv(); m.(*xsync.SyncDL).Status.GetCode() != xsync.Status_PB_PARSER_ERROR {
			t.Errorf("malformed frame answered %v, want PB_PARSER_ERROR", m)
		}
		if code, _, _ := l.closeOf(); code != websocket.StatusInvalidFramePayloadData {
			t.Errorf("close %d after a malformed frame, want 1007", code)
		}
	})
	t.Run("oversized frame", func(t *testing.T) {
		l := dialSocketIO(t, host)
		l.write(websocket.MessageText, sioFrameHeader)
		l.write(websocket.MessageBinary, "\x04"+strings.Repeat("x", 2048))
		if code, _, _ := l.closeOf(); code != websocket.StatusMessageTooBig {
			t.Errorf("close %d after an oversized frame, want 1009", code)
		}
	})
	t.Run("no JSON subprotocol", func(t *testing.T) {
		ws, _, err := websocket.Dial(ctx(t), "ws://"+host+"/socket.io/?EIO=3&transport=websocket",
			&websocket.DialOptions{Subprotocols: []string{gateway.SubprotocolJSON}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		if ws.Subprotocol() != "" {
			t.Errorf("Socket.IO negotiated subprotocol %q, want none", ws.Subprotocol())
		}
	})
}

func TestRoot(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	uid, tok := s.user("cy")
	resp, err := http.Get(s.http.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(raw) != `{"code":200,"data":{"name":"imgate","version":"devel"},"message":null}`+"\n" {
		t.Errorf("GET /: %d %s", resp.StatusCode, raw)
	}
	// An upgrade on / is a raw XSYNC session, JSON subprotocol included.
	ws, _, err := websocket.Dial(ctx(t), strings.Replace(s.http.URL, "http", "ws", 1)+"/",
		&websocket.DialOptions{Subprotocols: []string{gateway.SubprotocolJSON}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	login := `{"command":"PROVISION","payload":{"xid":{"uid":"` + jsonNum(uid) + `"},"token":"` + tok + `"}}`
	if err := ws.Write(ctx(t), websocket.MessageText, []byte(login)); err != nil {
		t.Fatal(err)
	}
	if typ, data, err := ws.Read(ctx(t)); err != nil || typ != websocket.MessageText || !strings.Contains(string(data), `"code":"OK"`) {
		t.Errorf("JSON login on /: %v %s %v", typ, data, err)
	}
}
