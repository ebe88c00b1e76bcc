package gateway_test

import (
	"testing"

	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

// TestChangePasswordKeepsCaller: /user/change_password with a user token
// closes the sessions of the user's other tokens with PASSWORD_CHANGED
// and leaves the session of the token that made the change alone
// (issue 17, left open: it kicked every session, its own too).
func TestChangePasswordKeepsCaller(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	uid, mine := s.user("gina")
	_, theirs := s.freshToken("gina")
	here, _ := s.login(uid, 0, mine, "here")
	there, _ := s.login(uid, 0, theirs, "there")
	if code, data := s.rest("POST", "/user/change_password", map[string]string{"app_id": "app", "access-token": mine},
		`{"old_password":"pw","new_password":"pw2"}`); code != 200 {
		t.Fatalf("change_password: %d %s", code, data)
	}
	code, msgs := closed(t, there)
	if code != 4003 || userNotice(t, msgs) != xsync.UserNotice_PASSWORD_CHANGED {
		t.Errorf("the other token's session: close %d after %v, want PASSWORD_CHANGED and 4003", code, msgs)
	}
	// The caller's session still answers a heartbeat.
	if err := here.Send(ctx(t), xsync.Frame_UNREAD, &xsync.UnreadUL{}); err != nil {
		t.Fatal(err)
	}
	for {
		_, msg, err := here.Recv(ctx(t))
		if err != nil {
			t.Fatalf("the caller's session ended: %v", err)
		}
		if _, ok := msg.(*xsync.UnreadDL); ok {
			break
		}
		if n := userNotice(t, []any{msg}); n == xsync.UserNotice_PASSWORD_CHANGED {
			t.Fatalf("the caller's session got %s", n)
		}
	}
}
