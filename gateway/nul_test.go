package gateway_test

import (
	"testing"

	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

// TestNULRefused: a message with NUL in its content, config, attachment
// or ext is refused on both stores, over the WebSocket and REST alike
// (issue 17, item 9: SQLite stored it, Postgres failed).
func TestNULRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{})
		alice, atok := s.user("alice")
		bob, _ := s.user("bob")
		d := s.device(alice, atok, "a", false)
		for _, body := range []*xsync.MessageBody{
			text(xsync.MessageBody_CHAT, "a\x00b"),
			{Type: xsync.MessageBody_CHAT, Content: "x", Ext: "\x00"},
			{Type: xsync.MessageBody_CHAT, Content: "x", Config: "{\x00}"},
			{Type: xsync.MessageBody_CHAT, Content: "x", Attachment: "\x00"},
		} {
			dl, err := d.Send(ctx(t), d.xid, bob, body)
			if err != nil {
				t.Fatal(err)
			}
			if dl.Status.GetCode() != xsync.Status_INVALID_PARAMETER || dl.ServerMid != 0 {
				t.Errorf("send of %q: %v, want INVALID_PARAMETER and nothing stored", body, dl)
			}
		}
		as := map[string]string{"app_id": "app", "access-token": atok}
		if code, data := s.rest("POST", "/message/send", as, `{"type":1,"targets":[`+jsonNum(bob)+`],"content_type":0,"content":"a\u0000b"}`); code != 10002 {
			t.Errorf("REST send with NUL: %d %s, want 10002", code, data)
		}
	})
}
