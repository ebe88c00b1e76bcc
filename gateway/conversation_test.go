package gateway_test

import (
	"encoding/json"
	"testing"

	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

// TestDeleteConversation deletes a conversation as MaxIM's SDKs do, with
// a CONVERSATION meta: the deleter's history of it is empty and nothing
// of it is unread, the other side keeps it, and a later message shows
// as usual. An operation other than a delete is refused.
func TestDeleteConversation(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{})
		alice, atok := s.user("alice")
		bob, btok := s.user("bob")
		a := s.device(alice, atok, "a", false)
		b := s.device(bob, btok, "b", false)
		for _, m := range []string{"one", "two", "three"} {
			a.send(t, bob, text(xsync.MessageBody_CHAT, m))
		}
		b.waitConv(t, alice, 3)
		history := func(tok string, with uint64) int {
			t.Helper()
			code, data := s.rest("GET", "/message/conversation?limit=50&msg_id_start=0&opposite_id="+jsonNum(with),
				map[string]string{"app_id": "app", "access-token": tok}, "")
			var page struct {
				Messages []json.RawMessage `json:"messages"`
			}
			if code != 200 || json.Unmarshal(data, &page) != nil {
				t.Fatalf("history: %d %s", code, data)
			}
			return len(page.Messages)
		}
		if n := history(btok, alice); n != 3 {
			t.Fatalf("bob's history before the delete: %d, want 3", n)
		}

		dl, err := b.DeleteConversation(ctx(t), b.xid, alice, true)
		if err != nil || dl.Status.GetCode() != xsync.Status_OK {
			t.Fatalf("delete conversation: %v, %v", dl, err)
		}
		if n := history(btok, alice); n != 0 {
			t.Errorf("bob's history after the delete: %d messages, want none", n)
		}
		if n := history(atok, bob); n != 3 {
			t.Errorf("alice's history after bob's delete: %d messages, want 3", n)
		}
		if code, data := s.rest("GET", "/message/unread", map[string]string{"app_id": "app", "access-token": btok}, ""); code != 200 || string(data) != "[]" {
			t.Errorf("bob's unread after the delete: %d %s, want none", code, data)
		}
		a.send(t, bob, text(xsync.MessageBody_CHAT, "four"))
		b.waitConv(t, alice, 4)
		if n := history(btok, alice); n != 1 {
			t.Errorf("bob's history after a new message: %d, want 1", n)
		}

		if dl, err := b.DeleteConversation(ctx(t), b.xid, 0, false); err != nil || dl.Status.GetCode() != xsync.Status_INVALID_PARAMETER {
			t.Errorf("delete of no conversation: %v, %v; want INVALID_PARAMETER", dl, err)
		}
	})
}
